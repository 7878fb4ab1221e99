"""The code run in a fresh kernel before the notebook's first cell.

It fixes the seeds, makes shell escapes and the magics that exist only in a
front end (Colab's `%tensorflow_version`, `%load_ext tensorboard`, …)
harmless, and redirects dataset downloads to the grader's own files: keras' MNIST, and SVHN's
`train_32x32.mat` / `test_32x32.mat` wherever `scipy.io.loadmat` is pointed
(a Colab Drive path included). The hooks fire when TensorFlow or Keras is
imported: by the notebook, or by the preamble itself for the modules in
`preload` (a kernel started ahead of use pays for the import before the
notebook is known).

Either way a notebook starts from the same state: TensorFlow's hook seeds
python, numpy and TensorFlow with the seed the preamble already gave python
and numpy, with no draw in between, so importing it in the preamble changes
nothing for a notebook that never imports it; and a notebook that imports it
(by name, or through keras) has it preloaded in every run.
"""

from __future__ import annotations

import json

_PREAMBLE = r'''
def _grader_preamble(seed, datasets, preload):
    import importlib.abc, os, random, sys
    import numpy as np

    random.seed(seed)
    np.random.seed(seed)
    ip = get_ipython()

    def skipped(command, *args, **kwargs):
        print(f"[grader] shell command skipped: {command}")

    ip.system = ip.system_raw = ip.system_piped = skipped
    ip.getoutput = lambda command, *args, **kwargs: skipped(command) or []
    for magic in ("pip", "conda", "mamba", "sx", "system", "bash", "sh", "script"):
        ip.register_magic_function(lambda line="", cell=None, _m=magic: skipped(f"%{_m} {line}"), "line_cell", magic)

    # Magics that exist only in a front end (they set up its surroundings): a no-op here, as they are
    # no-ops for the code. A magic the notebook registers itself replaces these; one unknown everywhere still raises.
    for magic, where in FRONT_END_MAGICS.items():
        def front_end(line="", cell=None, _m=magic, _w=where):
            print(f"[grader] skipped %{'%' if cell is not None else ''}{_m} {line}".rstrip() + f" (a {_w} magic)")
        ip.register_magic_function(front_end, "line_cell", magic)

    extensions = FRONT_END_EXTENSIONS

    def extension_command(command):
        real = ip.find_line_magic(command)

        def extension(line=""):
            module = line.strip()
            if any(module == name or module.startswith(name + ".") for name in extensions):
                print(f"[grader] skipped %{command} {module} (a front-end extension)")
                return None
            return real(line)
        return extension

    for command in ("load_ext", "unload_ext", "reload_ext"):
        ip.register_magic_function(extension_command(command), "line", command)

    def after_tensorflow(module):
        module.keras.utils.set_random_seed(seed)

    def local_file(module):
        module.get_file = lambda *args, **kwargs: datasets["mnist"]

    def svhn_loadmat(module):
        real = module.loadmat

        def loadmat(file_name, *args, **kwargs):
            name = os.path.basename(os.fspath(file_name)) if isinstance(file_name, (str, os.PathLike)) else ""
            for split in ("train", "test"):
                if name.removesuffix(".mat").endswith(f"{split}_32x32"):
                    with np.load(datasets["svhn"], allow_pickle=False) as f:
                        return {"__header__": b"grader SVHN stand-in", "__version__": "1.0", "__globals__": [],
                                "X": f[f"{split}_X"], "y": f[f"{split}_y"]}
            return real(file_name, *args, **kwargs)

        module.loadmat = loadmat

    hooks = {
        "tensorflow": after_tensorflow,
        "keras.src.datasets.mnist": local_file,
        "tf_keras.src.datasets.mnist": local_file,
        "keras.datasets.mnist": local_file,
    }
    if "svhn" in datasets:
        hooks.update({"scipy.io": svhn_loadmat, "scipy.io.matlab": svhn_loadmat})

    class AfterImport(importlib.abc.MetaPathFinder):
        """Run a hook once a watched module has finished importing."""

        def find_spec(self, name, path, target=None):
            if name not in hooks:
                return None
            sys.meta_path.remove(self)
            try:
                spec = importlib.util.find_spec(name)
            finally:
                sys.meta_path.insert(0, self)
            if spec is None or spec.loader is None:
                return spec
            loader, hook = spec.loader, hooks.pop(name)
            real_exec = loader.exec_module

            def exec_module(module):
                real_exec(module)
                hook(module)

            loader.exec_module = exec_module
            return spec

    import importlib.util
    sys.meta_path.insert(0, AfterImport())
    for name in preload:
        try:
            importlib.import_module(name)
        except Exception:
            pass  # the notebook's own import will fail the same way, where the student sees it

FRONT_END_MAGICS = MAGICS
FRONT_END_EXTENSIONS = EXTENSIONS
_grader_preamble(SEED, DATASETS, PRELOAD)
del _grader_preamble, FRONT_END_MAGICS, FRONT_END_EXTENSIONS
'''

# Line and cell magics that exist only in Colab or another front end, and where (found in public lab notebooks).
# Real IPython magics (%matplotlib, %env, %%capture, %%html, %%writefile, %autoreload, ...) are left alone.
FRONT_END_MAGICS = {
    "tensorflow_version": "Colab",  # `%tensorflow_version 2.x`: chose the TensorFlow of a Colab runtime
    "shell": "Colab",  # `%%shell`: the cell is a shell script
    "bigquery": "Colab BigQuery",  # `%%bigquery df`: the cell is SQL run on BigQuery
    "tensorboard": "TensorBoard notebook",  # `%tensorboard --logdir logs`: starts a TensorBoard server
    "ai": "Jupyter AI",  # `%%ai chatgpt`: the cell is a prompt
}

# Extensions that only serve a front end: `%load_ext` of them (or of a submodule) is a no-op; others load as usual.
FRONT_END_EXTENSIONS = (
    "google.colab",  # google.colab.data_table, …: Colab's display of data frames
    "google.cloud.bigquery", "bigquery_magics",  # the %%bigquery magic
    "tensorboard",  # the %tensorboard magic
    "jupyter_ai", "jupyter_ai_magics",  # the %%ai magic
    "nb_black", "lab_black", "jupyter_black",  # reformat cells in the editor
    "autotime",  # prints each cell's run time
    "cudf.pandas",  # pandas on a GPU, pandas otherwise
)


def preamble_source(seed: int, datasets: dict[str, str], preload: list[str] = ()) -> str:
    """The preamble for one run: `datasets` maps a dataset name to its file; `preload` names modules to import."""
    return (_PREAMBLE.replace("SEED", str(int(seed))).replace("DATASETS", json.dumps(datasets))
            .replace("PRELOAD", json.dumps(list(preload))).replace("= MAGICS", f"= {FRONT_END_MAGICS!r}")
            .replace("= EXTENSIONS", f"= {FRONT_END_EXTENSIONS!r}"))
