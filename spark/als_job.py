"""recsys's PySpark job: fits pyspark.ml.recommendation.ALS (or cross-validates a grid of it, selected by ROEM)
on interactions recsys wrote as Parquet, and writes the factors as Parquet for recsys to import.

Run by `recsys spark als|search` and the spark-als model type as `python3 als_job.py SPEC.json` (or through
spark-submit). SPEC is a JSON object written by src/sparkjob/job.ts (runJob):

  mode      "fit" | "search" | "roem-selftest"
  master    Spark master URL (local[2], spark://host:7077, yarn)
  conf      Spark configuration entries (spark.sql.shuffle.partitions, spark.driver.memory...)
  input     Parquet file with columns user INT, item INT, rating FLOAT (dense recsys indices)
  output    directory the job creates: userFactors/ and itemFactors/ (Parquet: id INT, features ARRAY<FLOAT>)
            and result.json
  als       ALS parameters (rank, maxIter, regParam, implicitPrefs, alpha, nonnegative, coldStartStrategy, seed)
  search    (mode search) grid: list of ALS parameter overrides; folds, seed, metric ("roem")

In a search, a parameter map whose fit fails (Spark rejects it, runs out of memory) does not end the job: that
fold's evaluation is recorded with its error (value null) and counts as +inf for the selection; the others go on.

Everything the CLI reads goes to stdout as JSON lines ({"event": ...}); Spark's own logging goes to stderr.
SIGINT or SIGTERM cancels the running Spark jobs and exits with status 130; any failure prints
{"event": "error"} and exits with status 1. result.json is written last, so its presence means success.
"""
import json
import os
import signal
import sys
import threading
import time
import traceback


def emit(event, **fields):
    """One JSON line on stdout for the CLI."""
    sys.stdout.write(json.dumps({"event": event, **fields}) + "\n")
    sys.stdout.flush()


class Cancelled(Exception):
    pass


def on_signal(signum, _frame):
    # pyspark's own SIGINT handler does the same; SIGTERM comes from the CLI when the user presses Ctrl-C.
    ACTIVE["cancelled"] = True
    ctx = ACTIVE.get("sc")
    if ctx is not None:
        try:
            ctx.cancelAllJobs()
        except Exception:  # the JVM may be gone already
            pass
    raise Cancelled("interrupted (signal %d)" % signum)


ACTIVE = {}


def describe_error(e):
    """One line for a failed fit: the root Java exception of a Py4JJavaError, else the Python exception."""
    java = getattr(e, "java_exception", None)
    if java is not None:
        try:
            root = java
            while root.getCause() is not None and root.getCause() != root:
                root = root.getCause()
            return str(root.toString()).strip().splitlines()[0][:500]
        except Exception:  # the JVM may be gone
            pass
    text = str(e).strip()
    return "%s: %s" % (type(e).__name__, text.splitlines()[0][:500] if text else "")


class StageProgress(threading.Thread):
    """Polls the StatusTracker and emits stages done/total (and the running stage's tasks) when they change."""

    def __init__(self, sc, interval=0.25):
        super().__init__(daemon=True)
        self.sc = sc
        self.interval = interval
        self.stop_event = threading.Event()
        self.jobs = {}  # running job id -> its stage ids
        self.finished = {}  # finished job id -> its number of stages
        self.last = None

    def snapshot(self):
        tracker = self.sc.statusTracker()
        for job_id in self._job_ids(tracker):
            if job_id in self.finished:
                continue
            info = tracker.getJobInfo(job_id)
            if info is None:
                continue
            if info.status in ("SUCCEEDED", "FAILED"):
                # Finished jobs are not asked again: the poll costs one call per running job and stage.
                self.finished[job_id] = len(info.stageIds)
                self.jobs.pop(job_id, None)
            else:
                self.jobs[job_id] = list(info.stageIds)
        total = sum(self.finished.values())
        done = total
        tasks_done = 0
        tasks = 0
        active = set(tracker.getActiveStageIds())
        for stage_ids in self.jobs.values():
            total += len(stage_ids)
            for sid in stage_ids:
                st = tracker.getStageInfo(sid)
                if st is None:
                    continue
                if sid in active:
                    tasks += st.numTasks
                    tasks_done += st.numCompletedTasks
                elif st.numTasks > 0 and st.numCompletedTasks >= st.numTasks:
                    done += 1
        return done, total, tasks_done, tasks

    @staticmethod
    def _job_ids(tracker):
        ids = set(tracker.getActiveJobsIds())
        ids.update(tracker.getJobIdsForGroup())
        return sorted(ids)

    def run(self):
        while not self.stop_event.wait(self.interval):
            self.report()

    def report(self):
        try:
            done, total, tasks_done, tasks = self.snapshot()
        except Exception:
            return
        now = (done, total, tasks_done, tasks)
        if now != self.last and total > 0:
            self.last = now
            emit("progress", phase="stages", done=done, total=total, tasksDone=tasks_done, tasks=tasks)

    def stop(self):
        self.stop_event.set()
        self.join(timeout=2)
        self.report()


def als_estimator(ALS, p, cls=None):
    cls = cls or ALS
    return cls(
        userCol="user", itemCol="item", ratingCol="rating",
        rank=int(p["rank"]), maxIter=int(p["maxIter"]), regParam=float(p["regParam"]),
        implicitPrefs=bool(p["implicitPrefs"]), alpha=float(p["alpha"]), nonnegative=bool(p.get("nonnegative", False)),
        coldStartStrategy=p.get("coldStartStrategy", "nan"), seed=int(p.get("seed", 42)),
        numUserBlocks=int(p.get("numBlocks", 10)), numItemBlocks=int(p.get("numBlocks", 10)),
        checkpointInterval=int(p.get("checkpointInterval", 10)),
    )


def percentile_ranks(F, Window, scores, train, heldout):
    """Each held-out (user, item, rating) with the item's percentile rank in [0, 1] (0 = top) among the user's
    candidates: every scored item the user has no training interaction with. Spark's percent_rank:
    (rank - 1) / (candidates - 1). Held-out pairs without a score (cold items) are dropped."""
    candidates = scores.join(train.select("user", "item"), ["user", "item"], "left_anti")
    w = Window.partitionBy("user").orderBy(F.col("score").desc())
    ranked = candidates.withColumn("percentRank", F.percent_rank().over(w))
    return heldout.select("user", "item", "rating").join(ranked.select("user", "item", "percentRank"), ["user", "item"], "inner")


def roem(F, ranked):
    """ROEM (Hu, Koren & Volinsky 2008, expected percentile rank): sum(r * rank) / sum(r); lower is better."""
    row = ranked.agg(F.sum(F.col("rating") * F.col("percentRank")).alias("num"), F.sum("rating").alias("den")).collect()[0]
    if row["den"] is None or row["den"] == 0:
        return float("nan")
    return float(row["num"]) / float(row["den"])


def build_search_classes():
    """The ALS estimator that ranks every item for the held-out users, and the ROEM evaluator over it."""
    from pyspark.ml import Model
    from pyspark.ml.evaluation import Evaluator
    from pyspark.ml.recommendation import ALS
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    class RankingALSModel(Model):
        def __init__(self, als_model, train, fit_seconds, params):
            super().__init__()
            self.als_model = als_model
            self.train = train
            self.fit_seconds = fit_seconds
            self.recsys_params = params

        def _transform(self, dataset):
            users = dataset.select("user").distinct()
            n_items = self.als_model.itemFactors.count()
            recs = self.als_model.recommendForUserSubset(users, n_items)
            scores = recs.select("user", F.explode("recommendations").alias("r")).select("user", F.col("r.item").alias("item"), F.col("r.rating").alias("score"))
            out = percentile_ranks(F, Window, scores, self.train, dataset)
            out.recsys_fit = (self.recsys_params, self.fit_seconds, None)
            return out

    class FailedFit(Model):
        """A parameter map whose fit failed: its transform carries the error to the evaluator."""

        def __init__(self, error, fit_seconds, params):
            super().__init__()
            self.error = error
            self.fit_seconds = fit_seconds
            self.recsys_params = params

        def _transform(self, dataset):
            out = dataset.limit(0)
            out.recsys_fit = (self.recsys_params, self.fit_seconds, self.error)
            return out

    class RankingALS(ALS):
        """ALS whose model's transform gives each held-out pair its percentile rank (for RoemEvaluator); a fit
        that fails becomes a FailedFit (the search goes on) unless the job is being cancelled."""

        def _fit(self, dataset):
            t0 = time.time()
            params = {name: self.getOrDefault(name) for name in ("rank", "maxIter", "regParam", "alpha", "seed")}
            try:
                model = super()._fit(dataset)
                model.itemFactors.cache().count()
            except Exception as e:
                if ACTIVE.get("cancelled"):
                    raise
                error = describe_error(e)
                sys.stderr.write("recsys: fit of %s failed: %s\n" % (json.dumps(params), error))
                return FailedFit(error, time.time() - t0, params)
            return RankingALSModel(model, dataset, time.time() - t0, params)

    class RoemEvaluator(Evaluator):
        """ROEM of a RankingALSModel's transform output; records every evaluation (params, value, seconds)."""

        def __init__(self):
            super().__init__()
            self.records = []

        def _evaluate(self, dataset):
            t0 = time.time()
            params, fit_seconds, error = getattr(dataset, "recsys_fit", ({}, 0.0, None))
            if error is not None:
                self.records.append({"params": params, "value": None, "error": error, "fitSeconds": fit_seconds, "scoringSeconds": 0.0})
                return float("inf")
            value = roem(F, dataset)
            self.records.append({"params": params, "value": value, "fitSeconds": fit_seconds, "scoringSeconds": time.time() - t0})
            return value

        def isLargerBetter(self):
            return False

    return RankingALS, RoemEvaluator, FailedFit


def write_factors(model, output):
    model.userFactors.write.mode("error").parquet(os.path.join(output, "userFactors"))
    model.itemFactors.write.mode("error").parquet(os.path.join(output, "itemFactors"))


def run_fit(spark, spec):
    from pyspark.ml.recommendation import ALS

    data = spark.read.parquet(spec["input"])
    t0 = time.time()
    model = als_estimator(ALS, spec["als"]).fit(data)
    fit_seconds = time.time() - t0
    write_factors(model, spec["output"])
    return {"fitSeconds": fit_seconds}


def run_search(spark, spec):
    from pyspark.ml.tuning import CrossValidator, ParamGridBuilder

    RankingALS, RoemEvaluator, FailedFit = build_search_classes()
    search = spec["search"]
    if search.get("metric", "roem") != "roem":
        raise ValueError("the Spark search selects on roem only, got %r" % search.get("metric"))
    data = spark.read.parquet(spec["input"]).cache()
    est = als_estimator(None, spec["als"], RankingALS)
    space = search.get("space")
    if space:
        # A grid: ParamGridBuilder's order (first axis slowest) is the order recsys plans the trials in.
        builder = ParamGridBuilder()
        for name, values in space.items():
            builder = builder.addGrid(est.getParam(name), values)
        grid = builder.build()
    else:
        # Random draws, or the grid's trials not yet in the results file: the planned parameter maps as they are.
        grid = [{est.getParam(k): v for k, v in t.items()} for t in search["trials"]]
    evaluator = RoemEvaluator()
    cv = CrossValidator(estimator=est, estimatorParamMaps=grid, evaluator=evaluator, numFolds=int(search["folds"]), seed=int(search["seed"]), parallelism=1)
    t0 = time.time()
    cv_model = cv.fit(data)
    seconds = time.time() - t0
    # avgMetrics of failed maps are +inf; null in JSON (json.dumps would write the non-standard Infinity).
    avg = [m if m == m and abs(m) != float("inf") else None for m in cv_model.avgMetrics]
    result = {"seconds": seconds, "evaluations": evaluator.records, "avgMetrics": avg, "best": None}
    best_model = cv_model.bestModel
    if isinstance(best_model, FailedFit):
        # Every map failed, or the best one's refit on the whole input did.
        result["bestError"] = best_model.error
    else:
        write_factors(best_model.als_model, spec["output"])
        result["best"] = {name: best_model.recsys_params[name] for name in ("rank", "maxIter", "regParam", "alpha", "seed")}
    return result


def run_roem_selftest(spark, spec):
    """ROEM of a fixed scored case (the unit test compares it with a hand-computed value)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    case = spec["case"]
    scores = spark.createDataFrame([(int(u), int(i), float(s)) for u, i, s in case["scores"]], "user INT, item INT, score FLOAT")
    train = spark.createDataFrame([(int(u), int(i)) for u, i in case["train"]], "user INT, item INT")
    heldout = spark.createDataFrame([(int(u), int(i), float(r)) for u, i, r in case["heldout"]], "user INT, item INT, rating FLOAT")
    return {"roem": roem(F, percentile_ranks(F, Window, scores, train, heldout))}


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: als_job.py SPEC.json\n")
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        spec = json.load(f)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    spark = None
    progress = None
    try:
        from pyspark.sql import SparkSession

        builder = SparkSession.builder.master(spec["master"]).appName(spec.get("appName", "recsys"))
        for key, value in spec.get("conf", {}).items():
            builder = builder.config(key, str(value))
        spark = builder.getOrCreate()
        sc = spark.sparkContext
        sc.setLogLevel(spec.get("logLevel", "ERROR"))
        ACTIVE["sc"] = sc
        # pyspark installs its own SIGINT handler with the context; keep ours (it also cancels the jobs).
        signal.signal(signal.SIGINT, on_signal)
        emit("start", sparkVersion=spark.version, master=sc.master, defaultParallelism=sc.defaultParallelism)
        progress = StageProgress(sc)
        progress.start()
        os.makedirs(spec["output"], exist_ok=False)
        mode = spec["mode"]
        if mode == "fit":
            result = run_fit(spark, spec)
        elif mode == "search":
            result = run_search(spark, spec)
        elif mode == "roem-selftest":
            result = run_roem_selftest(spark, spec)
        else:
            raise ValueError("unknown mode %r" % mode)
        progress.stop()
        progress = None
        result["sparkVersion"] = spark.version
        tmp = os.path.join(spec["output"], "result.json.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(result, f)
        os.replace(tmp, os.path.join(spec["output"], "result.json"))
        emit("done", **{k: v for k, v in result.items() if k in ("fitSeconds", "seconds", "roem")})
        return 0
    except (Cancelled, KeyboardInterrupt) as e:
        emit("cancelled", message=str(e) or "interrupted")
        return 130
    except Exception as e:  # the CLI shows the message and the stderr tail
        message = "%s: %s" % (type(e).__name__, str(e).strip().splitlines()[0] if str(e).strip() else "")
        emit("error", message=message, trace=traceback.format_exc()[-4000:])
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if progress is not None:
            progress.stop_event.set()
        if spark is not None:
            try:
                spark.stop()
            except Exception:
                pass


if __name__ == "__main__":
    sys.exit(main())
