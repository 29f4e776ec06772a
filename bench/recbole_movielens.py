"""RecBole on a split written by `npm run bench -- quality --movielens`.

usage: python3 recbole_movielens.py DATA_DIR DATASET MODEL [JSON_PARAMS]
DATA_DIR/DATASET/ holds DATASET.train.inter, .valid.inter, .test.inter (RecBole atomic files, `benchmark_filename`),
so RecBole trains, validates (early stopping) and tests on exactly recsys's split. Prints one JSON line:
{"model", "ndcg@10", "recall@10", "best_valid", "seconds"}.
"""
import json
import os
import sys
import time

import numpy as np
import torch

# RecBole 1.2.1 predates NumPy 2 (np.float_ etc. removed) and torch 2.6 (torch.load defaults to weights_only=True,
# which refuses RecBole's own checkpoints): restore the old names and RecBole's expected default.
for old, new in (("float_", np.float64), ("complex_", np.complex128), ("unicode_", np.str_)):
    if not hasattr(np, old):
        setattr(np, old, new)
_load = torch.load
torch.load = lambda *a, **k: _load(*a, **{"weights_only": False, **k})

from recbole.config import Config
from recbole.data import create_dataset, data_preparation
from recbole.utils import get_model, get_trainer, init_seed


def main() -> None:
    data_dir, dataset, model_name = sys.argv[1], sys.argv[2], sys.argv[3]
    extra = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
    os.chdir(data_dir)  # RecBole writes log/ and log_tensorboard/ into the working directory: keep them with the split
    config_dict = {
        "data_path": data_dir,
        "benchmark_filename": ["train", "valid", "test"],
        "load_col": {"inter": ["user_id", "item_id"]},
        "USER_ID_FIELD": "user_id",
        "ITEM_ID_FIELD": "item_id",
        "eval_args": {"group_by": "user", "order": "RO", "mode": "full"},
        "metrics": ["NDCG", "Recall"],
        "topk": [10],
        "valid_metric": "NDCG@10",
        "stopping_step": 10,
        "epochs": 300,
        "train_batch_size": 4096,
        "embedding_size": 64,
        "seed": 2020,
        "reproducibility": True,
        "use_gpu": False,
        "show_progress": False,
        "checkpoint_dir": data_dir + "/saved",
        "log_wandb": False,
        "state": "WARNING",
    }
    config_dict.update(extra)
    t0 = time.time()
    config = Config(model=model_name, dataset=dataset, config_dict=config_dict)
    init_seed(config["seed"], config["reproducibility"])
    ds = create_dataset(config)
    train, valid, test = data_preparation(config, ds)
    model = get_model(config["model"])(config, train.dataset).to(config["device"])
    trainer = get_trainer(config["MODEL_TYPE"], config["model"])(config, model)
    best_valid, _ = trainer.fit(train, valid, saved=True, show_progress=False)
    result = trainer.evaluate(test, load_best_model=True, show_progress=False)
    print(json.dumps({
        "model": model_name,
        "ndcg@10": float(result["ndcg@10"]),
        "recall@10": float(result["recall@10"]),
        "best_valid": float(best_valid) if best_valid is not None else None,
        "users": int(ds.user_num - 1), "items": int(ds.item_num - 1), "inter": int(ds.inter_num),
        "seconds": time.time() - t0,
    }))


if __name__ == "__main__":
    main()
