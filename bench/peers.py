"""Peer timings for `npm run bench -- peers` (bench/peers.ts): one task per call, on the matrix bench/peers.ts wrote.

    python3 bench/peers.py <task> <dir> <threads> [params as JSON]

task: info | ials | item-knn | ease | mult-vae. <dir> holds indptr.bin (int32), indices.bin (int32), values.bin
(float32) and shape.json ({"users", "items"}). Prints one JSON object on the last line of stdout. `ials` also writes
user_factors.bin / item_factors.bin (float32, row-major) into <dir> so that bench/peers.ts ranks both models' factors
with the same code. OPENBLAS_CORETYPE / thread variables are set by the caller; `info` reports what OpenBLAS picked.
"""
import json
import os
import sys
import time


def blas_info():
    try:
        from threadpoolctl import threadpool_info
        return [
            {k: d.get(k) for k in ("internal_api", "version", "architecture", "num_threads", "prefix")}
            for d in threadpool_info()
        ]
    except Exception as e:  # threadpoolctl missing: say so instead of guessing
        return [{"error": f"threadpoolctl unavailable: {e}"}]


def load(d):
    import numpy as np
    shape = json.load(open(os.path.join(d, "shape.json")))
    ip = np.fromfile(os.path.join(d, "indptr.bin"), dtype=np.int32)
    ix = np.fromfile(os.path.join(d, "indices.bin"), dtype=np.int32)
    v = np.fromfile(os.path.join(d, "values.bin"), dtype=np.float32)
    return shape["users"], shape["items"], ip, ix, v


def task_info(d, threads, p):
    import numpy as np
    out = {"numpy": np.__version__, "blas": blas_info()}
    for mod in ("implicit", "torch", "scipy"):
        try:
            out[mod] = __import__(mod).__version__
        except Exception:
            out[mod] = None
    return out


def task_ials(d, threads, p):
    import numpy as np
    import scipy.sparse as sp
    from implicit.cpu.als import AlternatingLeastSquares
    m, n, ip, ix, v = load(d)
    # implicit's confidence is the stored value (times its alpha): pass c = 1 + alpha*r with alpha = 1, the
    # confidence recsys uses, so both solve the same problem.
    conf = sp.csr_matrix(((1 + p["alpha"] * v).astype(np.float32), ix, ip), shape=(m, n))
    model = AlternatingLeastSquares(factors=p["factors"], regularization=p["reg"], alpha=1.0, iterations=p["iterations"],
                                    use_cg=True, use_native=True, num_threads=threads, random_state=p.get("seed", 42),
                                    calculate_training_loss=False)
    model.cg_steps = p["cgSteps"]
    t, c = time.perf_counter(), time.process_time()
    model.fit(conf, show_progress=False)
    fit, cpu = time.perf_counter() - t, time.process_time() - c
    np.ascontiguousarray(model.user_factors, dtype=np.float32).tofile(os.path.join(d, "user_factors.bin"))
    np.ascontiguousarray(model.item_factors, dtype=np.float32).tofile(os.path.join(d, "item_factors.bin"))
    return {"fit_s": fit, "cpu_s": cpu, "factors": int(model.user_factors.shape[1]), "cg_steps": model.cg_steps}


def task_item_knn(d, threads, p):
    import numpy as np
    import scipy.sparse as sp
    from implicit.nearest_neighbours import CosineRecommender
    m, n, ip, ix, v = load(d)
    x = sp.csr_matrix((np.ones_like(v), ix, ip), shape=(m, n))
    model = CosineRecommender(K=p["neighbors"], num_threads=threads)
    t, c = time.perf_counter(), time.process_time()
    model.fit(x, show_progress=False)
    return {"fit_s": time.perf_counter() - t, "cpu_s": time.process_time() - c, "nnz": int(model.similarity.nnz)}


def task_ease(d, threads, p):
    """Gram + the faster of two float32 inverses (both timed): LAPACK Cholesky inverse (scipy spotrf + spotri)
    and numpy's LU inverse; then B."""
    import numpy as np
    m, n, ip, ix, v = load(d)
    c0, t0 = time.process_time(), time.perf_counter()
    x = np.zeros((m, n), dtype=np.float32)
    x[np.repeat(np.arange(m), np.diff(ip)), ix] = 1
    g = x.T @ x  # numpy hands Xᵀ·X to BLAS
    del x
    g[np.diag_indices(n)] += p["reg"]
    gram_s, gram_cpu = time.perf_counter() - t0, time.process_time() - c0
    inverses = {}
    try:
        from scipy.linalg import lapack
        c1, t1 = time.process_time(), time.perf_counter()
        ch, info = lapack.spotrf(g, lower=1, overwrite_a=0, clean=0)
        if info != 0:
            raise RuntimeError(f"spotrf info={info}")
        pinv, info = lapack.spotri(ch, lower=1, overwrite_c=1)
        if info != 0:
            raise RuntimeError(f"spotri info={info}")
        pinv = np.tril(pinv) + np.tril(pinv, -1).T
        inverses["scipy spotrf+spotri"] = (time.perf_counter() - t1, time.process_time() - c1, pinv)
    except ImportError:
        pass
    c1, t1 = time.process_time(), time.perf_counter()
    pinv = np.linalg.inv(g)
    inverses["np.linalg.inv"] = (time.perf_counter() - t1, time.process_time() - c1, pinv)
    how = min(inverses, key=lambda k: inverses[k][0])
    inv_s, inv_cpu, pinv = inverses[how]
    c2, t2 = time.process_time(), time.perf_counter()
    b = pinv / (-np.diag(pinv))
    b[np.diag_indices(n)] = 0
    b_s, b_cpu = time.perf_counter() - t2, time.process_time() - c2
    return {"fit_s": gram_s + inv_s + b_s, "cpu_s": gram_cpu + inv_cpu + b_cpu, "gram_s": gram_s, "inverse_s": inv_s, "inverse": how,
            "inverses_s": {k: t[0] for k, t in inverses.items()}, "dtype": str(g.dtype)}


def task_mult_vae(d, threads, p):
    import numpy as np
    import torch
    torch.set_num_threads(threads)
    m, n, ip, ix, v = load(d)
    torch.manual_seed(p.get("seed", 1))
    hidden, latent = p["hidden"], p["latent"]
    enc1 = torch.nn.Linear(n, hidden)
    enc2 = torch.nn.Linear(hidden, 2 * latent)
    dec1 = torch.nn.Linear(latent, hidden)
    dec2 = torch.nn.Linear(hidden, n)
    params = [*enc1.parameters(), *enc2.parameters(), *dec1.parameters(), *dec2.parameters()]
    opt = torch.optim.Adam(params, lr=p["lr"])
    drop = torch.nn.Dropout(p["dropout"])
    rows = np.repeat(np.arange(m), np.diff(ip))
    dense = torch.zeros((m, n), dtype=torch.float32)
    dense[torch.from_numpy(rows), torch.from_numpy(ix.astype(np.int64))] = 1
    bs = p["batchSize"]

    def epoch(train=True):
        perm = torch.randperm(m)
        for s in range(0, m, bs):
            xb = dense[perm[s:s + bs]]
            h = torch.nn.functional.normalize(xb, dim=1)
            h = drop(h)
            h = torch.tanh(enc1(h))
            hz = enc2(h)
            mu, logvar = hz[:, :latent], hz[:, latent:]
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
            logits = dec2(torch.tanh(dec1(z)))
            nll = -(torch.log_softmax(logits, 1) * xb).sum(1).mean()
            kl = (-0.5 * (1 + logvar - mu * mu - logvar.exp()).sum(1)).mean()
            loss = nll + 0.2 * kl
            opt.zero_grad()
            loss.backward()
            opt.step()

    epoch()  # warm-up (allocator, thread pool)
    times, cpus = [], []
    for _ in range(p["epochs"]):
        t, c = time.perf_counter(), time.process_time()
        epoch()
        times.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    return {"epoch_s": min(times), "cpu_s": min(cpus), "epochs_s": times, "torch": torch.__version__, "torch_threads": torch.get_num_threads()}


TASKS = {"info": task_info, "ials": task_ials, "item-knn": task_item_knn, "ease": task_ease, "mult-vae": task_mult_vae}

if __name__ == "__main__":
    task, d, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
    params = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
    out = TASKS[task](d, threads, params)
    out["blas"] = blas_info()
    print(json.dumps(out))
