"""Helpers for the tokenizer tests (importable by spawned DDP workers, unlike test modules)."""

import os

import torch

from unihm_planner.tokenizer.config import RunConfig, TokenizerConfig, TrainConfig


def tiny_config(backbone: str = "conv1d", **train) -> RunConfig:
    tok = TokenizerConfig(backbone=backbone, codebook_size=64, code_dim=8, hidden_dim=16, num_res_blocks=1,
                          downsample=4)
    base = dict(reference_hand="ref_hand", chunk_len=16, chunk_stride=8, batch_size=32, lr=3e-3,
                reference_epochs=3, distill_epochs=3, finetune_epochs=2, refresh_every=2, save_every=2,
                refresh_buffer=512, kmeans_iters=3, progress=False, device="cpu")
    base.update(train)
    return RunConfig(tok, TrainConfig(**base))



def ddp_worker(rank: int, world: int, port: int, root: str) -> None:
    """One torchrun-like process: env vars as torchrun sets them, then the ordinary training call."""
    from unihm_planner.tokenizer.data import FolderSource
    from unihm_planner.tokenizer.train import train_tokenizer

    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port))
    torch.set_num_threads(1)
    cfg = tiny_config(reference_epochs=2, distill_epochs=1, finetune_epochs=1)
    model = train_tokenizer(FolderSource(root + "/data"), cfg, root + "/out")
    torch.save({k: v.clone() for k, v in model.state_dict().items()}, f"{root}/rank{rank}.pt")
    torch.distributed.destroy_process_group()
