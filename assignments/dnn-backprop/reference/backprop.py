"""The back-propagation DNN of the "Deep learning 3 review" sheet (numpy), with a stable Tanh."""

import numpy as np


def _t(x):
    return np.transpose(x)


def _m(A, B):
    return np.matmul(A, B)


class MeanSquaredError:  # 1/2 * mean((h - y)^2), gradient h - y
    def __init__(self):
        self.dh = 1
        self.last_diff = 1

    def __call__(self, h, y):
        self.last_diff = h - y
        return 1 / 2 * np.mean(np.square(self.last_diff))

    def grad(self):
        return self.last_diff


class Sigmoid:
    def __init__(self):
        self.last_o = 1

    def __call__(self, x):
        self.last_o = 1.0 / (1.0 + np.exp(-x))
        return self.last_o

    def grad(self):
        return self.last_o * (1.0 - self.last_o)


class Tanh:
    """np.tanh never overflows (e^x does, above x ≈ 709.8); the gradient comes from the output."""

    def __init__(self):
        self.last_o = 1

    def __call__(self, x):
        self.last_o = np.tanh(x)
        return self.last_o

    def grad(self):
        return 1.0 - self.last_o ** 2


class Dense:
    def __init__(self, W, b, a_obj):
        self.W = W
        self.b = b
        self.a = a_obj()
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)
        self.dh = np.zeros_like(_t(self.W))
        self.last_x = np.zeros((self.W.shape[0]))
        self.last_h = np.zeros((self.W.shape[1]))

    def __call__(self, x):
        self.last_x = x
        self.last_h = _m(_t(self.W), x) + self.b
        return self.a(self.last_h)

    def grad(self):
        return self.W * self.a.grad()

    def grad_W(self, dh):
        return np.outer(self.last_x, dh * self.a.grad())

    def grad_b(self, dh):
        return dh * self.a.grad()


class DNN:
    def __init__(self, hidden_depth, num_neuron, input, output, activation=Sigmoid):
        def init_var(i, o):
            return np.random.normal(0.0, 0.01, (i, o)), np.zeros((o,))

        self.sequence = []
        W, b = init_var(input, num_neuron)
        self.sequence.append(Dense(W, b, activation))
        for _ in range(hidden_depth):
            W, b = init_var(num_neuron, num_neuron)
            self.sequence.append(Dense(W, b, activation))
        W, b = init_var(num_neuron, output)
        self.sequence.append(Dense(W, b, activation))

    def __call__(self, x):
        for layer in self.sequence:
            x = layer(x)
        return x

    def calc_gradient(self, loss_obj):
        loss_obj.dh = loss_obj.grad()
        chain = self.sequence + [loss_obj]
        for i in range(len(chain) - 1, 0, -1):
            l1, l0 = chain[i], chain[i - 1]
            l0.dh = _m(l0.grad(), l1.dh)
            l0.dW = l0.grad_W(l1.dh)
            l0.db = l0.grad_b(l1.dh)


def gradient_descent(network, x, y, loss_obj, alpha=0.01):
    loss = loss_obj(network(x), y)  # forward
    network.calc_gradient(loss_obj)  # back-propagation
    for layer in network.sequence:
        layer.W += -alpha * layer.dW
        layer.b += -alpha * layer.db
    return loss


def train(hidden_depth=5, epochs=100, seed=0):
    """The sheet's question-2 training, with Tanh: the per-epoch losses."""
    rng = np.random.default_rng(seed)
    x, y = rng.normal(0.0, 1.0, (10,)), rng.normal(0.0, 1.0, (2,))
    dnn = DNN(hidden_depth=hidden_depth, num_neuron=32, input=10, output=2, activation=Tanh)
    loss = MeanSquaredError()
    return [float(gradient_descent(dnn, x, y, loss, 0.01)) for _ in range(epochs)]
