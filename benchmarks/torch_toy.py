"""The shipped 8gaussians WGAN-GP toy as a plain PyTorch training loop, for a side-by-side speed figure.

    python benchmarks/torch_toy.py --iterations 300 --json out.json     # needs torch (not a dependency)

Run by ``benchmarks/torch_vs_train.py``, which times it beside ``bin/train.py``'s own loop in one
run. It is written from the papers' description of the toy experiment (Gulrajani et al. 2017,
section 4 and their gan_toy.py's setup), not copied, and mirrors ``hyperparameter/wgan-gp-8gaussians.json``:

* generator z float32 [256, 2] ~ N(0, 1) -> 3 x (Linear 512, ReLU) -> Linear 2;
* critic [256, 2] -> 3 x (Linear 512, ReLU) -> Linear 1;
* 5 critic updates, then 1 generator update, each Adam (lr 4e-4, betas (0.5, 0.9)); the
  gradient penalty (||grad f(x_hat)|| - 1)^2 at uniform interpolates, weight 0.1;
* real points drawn each critic update: a centre of 8 at radius 2, N(0, 0.02^2) noise,
  divided by 1.414, all in torch on the CPU; float32 throughout.

What the toolkit's loop does besides (a linear learning-rate decay, logs every 10 iterations)
is left out here, so the comparison favours PyTorch slightly. It prints one JSON line:
``{"iterations_per_s": ..., "threads": ...}`` timed after ``--warmup`` iterations.
"""

import argparse
import json
import math
import time

import torch
from torch import nn

WIDTH, DEPTH, BATCH, N_CRITIC, GP_LAMBDA = 512, 3, 256, 5, 0.1


def mlp(inputs, outputs):
    """``DEPTH`` x (Linear WIDTH, ReLU) then a linear output layer."""
    layers, width = [], inputs
    for _ in range(DEPTH):
        layers += [nn.Linear(width, WIDTH), nn.ReLU()]
        width = WIDTH
    return nn.Sequential(*layers, nn.Linear(width, outputs))


CENTRES = 2.0 * torch.tensor([[math.cos(a), math.sin(a)] for a in (k * math.pi / 4 for k in range(8))])


def real_batch(generator):
    """float32 [BATCH, 2]: 8gaussians points."""
    centre = CENTRES[torch.randint(0, 8, (BATCH,), generator=generator)]
    return (centre + 0.02 * torch.randn(BATCH, 2, generator=generator)) / 1.414


def gradient_penalty(critic, real, fake):
    """mean (||grad_x critic(x_hat)||_2 - 1)^2 over uniform interpolates x_hat."""
    alpha = torch.rand(BATCH, 1)
    x_hat = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    grad, = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return ((grad.norm(dim=1) - 1) ** 2).mean()


def iteration(gen, critic, g_opt, c_opt, rng):
    """One generator iteration: N_CRITIC critic updates, then one generator update."""
    for _ in range(N_CRITIC):
        real = real_batch(rng)
        with torch.no_grad():
            fake = gen(torch.randn(BATCH, 2))
        loss = critic(fake).mean() - critic(real).mean() + GP_LAMBDA * gradient_penalty(critic, real, fake)
        c_opt.zero_grad(set_to_none=True)
        loss.backward()
        c_opt.step()
    g_loss = -critic(gen(torch.randn(BATCH, 2))).mean()
    g_opt.zero_grad(set_to_none=True)
    g_loss.backward()
    g_opt.step()
    return loss.detach(), g_loss.detach()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=300, help="timed generator iterations")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads; default: torch's own")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rng = torch.Generator().manual_seed(0)
    gen, critic = mlp(2, 2), mlp(2, 1)
    g_opt = torch.optim.Adam(gen.parameters(), lr=4e-4, betas=(0.5, 0.9))
    c_opt = torch.optim.Adam(critic.parameters(), lr=4e-4, betas=(0.5, 0.9))
    for _ in range(args.warmup):
        iteration(gen, critic, g_opt, c_opt, rng)
    start = time.perf_counter()
    for step in range(args.iterations):
        c_loss, g_loss = iteration(gen, critic, g_opt, c_opt, rng)
        if step % 10 == 0:  # the toolkit logs every 10 iterations: read the losses as often
            c_loss.item(), g_loss.item()
    seconds = time.perf_counter() - start
    print(json.dumps({"iterations_per_s": args.iterations / seconds, "threads": torch.get_num_threads(),
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main()
