"""Surprise on the folds bench/ratings.ts wrote: python3 surprise_ratings.py DIR FOLDS LOW,HIGH ALGO...

Reads DIR/fold<k>.train.tsv and DIR/fold<k>.test.tsv (user, item, rating; tab-separated) through Reader +
Dataset.load_from_folds (rating scale LOW..HIGH) and prints one JSON line per algorithm and fold: {"algo", "fold", "rmse", "fit_seconds", "fit_cpu_seconds"}.
"""
import json
import sys
import time

from surprise import SVD, SVDpp, BaselineOnly, KNNBaseline, Dataset, Reader, accuracy
from surprise.model_selection import PredefinedKFold

ALGOS = {
    'SVD': lambda: SVD(random_state=0),
    'SVDpp': lambda: SVDpp(random_state=0),
    'BaselineOnly': lambda: BaselineOnly(verbose=False),
    'KNNBaseline': lambda: KNNBaseline(sim_options={'name': 'pearson_baseline', 'user_based': False}, verbose=False),
}

d, n = sys.argv[1], int(sys.argv[2])
low, high = (float(x) for x in sys.argv[3].split(','))
reader = Reader(line_format='user item rating', sep='\t', rating_scale=(low, high))
folds = [(f'{d}/fold{k}.train.tsv', f'{d}/fold{k}.test.tsv') for k in range(n)]
data = Dataset.load_from_folds(folds, reader=reader)
for name in sys.argv[4:]:
    for k, (trainset, testset) in enumerate(PredefinedKFold().split(data)):
        algo = ALGOS[name]()
        t0, c0 = time.perf_counter(), time.process_time()
        algo.fit(trainset)
        fit, cpu = time.perf_counter() - t0, time.process_time() - c0
        rmse = accuracy.rmse(algo.test(testset), verbose=False)
        print(json.dumps({'algo': name, 'fold': k, 'rmse': rmse, 'fit_seconds': fit, 'fit_cpu_seconds': cpu}), flush=True)
