"""Sync benchmark: N kiosks with M records in their outboxes drain through real Mosquitto into the central DB.

    python -m bench.sync --devices N --records M [--database URL] [--workers W]

Each kiosk is a real SyncAgent on its own kiosk store (records signed and chained by kiosk.store); the ingest
workers are real IngestWorker processes sharing the $share group; the database is SQLite (default) or a fresh
temporary PostgreSQL database created next to --database URL and dropped afterwards. Baselines measured in
the same run: raw MQTT throughput (same payloads, no decoding, no DB) and one core's decode+verify rate.
The JSON object on the last stdout line holds the figures.
"""

import argparse
import contextlib
import json
import logging
import multiprocessing
import os
import resource
import secrets
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from central_server.db.engine import make_engine
from central_server.db.migrate import migrate
from central_server.db.schema import records
from central_server.devices.registry import register_device
from hajiri_wire.topics import SERVER_USER
from kiosk.store import Observation, all_records, append_record, open_store
from provisioning.broker import LocalBroker
from provisioning.identity import DeviceIdentity, create_identity, load_identity

log = logging.getLogger("bench.sync")
SITE = "bench-site"


@dataclass
class Kiosk:
    identity: DeviceIdentity
    store: Path
    password: str
    backlog: int


def device_name(i: int) -> str:
    return f"bench-{i:04d}"


# ---- setup ----------------------------------------------------------------------------------------------

def temp_postgres(admin_url: str) -> tuple[str, callable]:
    """A fresh database next to `admin_url` and a function that drops it."""
    import psycopg

    admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=5)
    name = f"hajiri_bench_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()

    return admin_url.rsplit("/", 1)[0] + "/" + name, drop


def observation(i: int, wall: float) -> Observation:
    return Observation(person_id=f"emp-{i % 500}", event="IN" if i % 2 else "OUT", wall_time=wall,
                       boot_id="bench-boot", mono_ns=time.monotonic_ns(), clock_synced=True, match_score=0.71,
                       liveness_score=0.93, model_version="sface-2021dec")


def fill_outbox(args: tuple[str, str, int]) -> int:
    """Write `n` signed, chained records through kiosk.store (a worker process: signing is CPU work)."""
    device_dir, store, n = args
    identity = load_identity(Path(device_dir))
    db = open_store(Path(store))
    # Setup only: the backlog is there before the clock starts; fsync per record would just slow the setup.
    db.execute("PRAGMA synchronous=OFF")
    for i in range(n):
        append_record(db, identity, observation(i, time.time()))
    db.conn.close()
    return n


def make_kiosks(work: Path, engine: sa.Engine, devices: int, total: int) -> list[Kiosk]:
    kiosks = []
    with engine.begin() as conn:
        for i in range(devices):
            identity = create_identity(work / device_name(i) / "device", device_name(i), SITE)
            register_device(conn, identity.device_id, SITE, identity.public_key_b64, actor="bench",
                            create_missing_site=True)
            n = total // devices + (1 if i < total % devices else 0)
            kiosks.append(Kiosk(identity, work / device_name(i) / "kiosk.db", secrets.token_urlsafe(16), n))
    jobs = [(str(k.store.parent / "device"), str(k.store), k.backlog) for k in kiosks]
    with multiprocessing.get_context("spawn").Pool(min(4, os.cpu_count() or 1)) as pool:
        written = sum(pool.map(fill_outbox, jobs))
    assert written == total, (written, total)
    return kiosks


# ---- ingest worker processes -----------------------------------------------------------------------------

def worker_main(url: str, host: str, port: int, password: str, index: int, ready, stop) -> None:
    """One ingest worker process: an IngestWorker on the shared subscription until `stop` is set."""
    logging.basicConfig(level=logging.ERROR)
    from central_server.config import ServerConfig
    from central_server.ingest.worker import IngestWorker

    config = ServerConfig(database_url=url, mqtt={"host": host, "port": port, "password": password,
                                                  "client_id": f"bench-ingest-{index}"})
    engine = make_engine(url)
    worker = IngestWorker(config, engine)
    worker.start()
    if not worker.wait_subscribed(20):
        raise SystemExit(f"ingest worker {index} did not subscribe")
    ready.put(index)
    start = resource.getrusage(resource.RUSAGE_SELF)
    stop.wait()
    worker.stop()
    engine.dispose()
    end = resource.getrusage(resource.RUSAGE_SELF)
    ready.put(end.ru_utime + end.ru_stime - start.ru_utime - start.ru_stime)


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def start_workers(n: int, url: str, broker: LocalBroker, password: str) -> tuple[list, object, object]:
    ctx = multiprocessing.get_context("spawn")
    ready, stop = ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=worker_main, args=(url, broker.host, broker.port, password, i, ready, stop),
                         daemon=True) for i in range(n)]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get(timeout=60)
    return procs, stop, ready


def stop_workers(procs: list, stop, ready) -> float:
    """Stop the worker processes; returns the CPU seconds they used while subscribed."""
    stop.set()
    used = 0.0
    for _ in procs:
        # A worker that died reports nothing; the join below deals with it.
        with contextlib.suppress(Exception):
            used += ready.get(timeout=15)
    for p in procs:
        p.join(10)
        if p.is_alive():
            p.kill()
    return used


# ---- baselines -------------------------------------------------------------------------------------------

def batch_payloads(kiosk: Kiosk, size: int) -> list[bytes]:
    from hajiri_wire import RecordBatch, encode_batch

    db = open_store(kiosk.store)
    recs = all_records(db)
    db.conn.close()
    return [encode_batch(RecordBatch(device_id=kiosk.identity.device_id, records=recs[i:i + size]))
            for i in range(0, len(recs), size)]


def baseline_verify(payloads: list[bytes], public_b64: str) -> float:
    """Records/s one core decodes, hashes and signature-checks (no MQTT, no DB): the CPU ceiling of a worker."""
    from central_server.ingest.records import prepare_record
    from hajiri_wire import decode_batch, load_public_key
    from hajiri_wire.signing import verify_signature

    key = load_public_key(public_b64)
    n = 0
    t0 = time.perf_counter()
    for payload in payloads:
        for rec in decode_batch(payload).records:
            p = prepare_record(rec)
            verify_signature(key, p.body, rec.sig)
            n += 1
    return n / (time.perf_counter() - t0)


def baseline_mqtt(broker: LocalBroker, kiosk: Kiosk, server_password: str, payloads: list[bytes],
                  per_batch: list[int]) -> float:
    """Records/s through the broker alone: the same batches published QoS 1 and received QoS 1, no processing."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from hajiri_wire import topics

    done = threading.Event()
    got = {"n": 0}
    expected = sum(per_batch)
    sizes = iter(per_batch)

    def on_message(_c, _u, _msg) -> None:
        got["n"] += next(sizes)
        if got["n"] >= expected:
            done.set()

    sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-raw-sub", protocol=mqtt.MQTTv5)
    sub.username_pw_set(SERVER_USER, server_password)
    subscribed = threading.Event()
    sub.on_subscribe = lambda *a: subscribed.set()
    sub.on_message = on_message
    sub.connect(broker.host, broker.port)
    sub.subscribe(topics.records(kiosk.identity.device_id), qos=1)
    sub.loop_start()
    subscribed.wait(10)
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-raw-pub", protocol=mqtt.MQTTv5)
    pub.username_pw_set(kiosk.identity.device_id, kiosk.password)
    pub.max_inflight_messages_set(20)
    pub.connect(broker.host, broker.port)
    pub.loop_start()
    t0 = time.perf_counter()
    for payload in payloads:
        pub.publish(topics.records(kiosk.identity.device_id), payload, qos=1)
    done.wait(120)
    elapsed = time.perf_counter() - t0
    for c in (pub, sub):
        c.disconnect()
        c.loop_stop()
    return got["n"] / elapsed


# ---- the run ---------------------------------------------------------------------------------------------

def start_agents(kiosks: list[Kiosk], broker: LocalBroker, batch_size: int, window: int) -> list:
    from sync_agent.agent import SyncAgent
    from sync_agent.config import SyncConfig

    agents = []
    for k in kiosks:
        config = SyncConfig.model_validate({
            "device_dir": k.store.parent / "device", "store": k.store, "batch_size": batch_size,
            "max_inflight_batches": window, "ack_timeout_s": 60, "poll_interval_s": 0.1,
            "heartbeat_interval_s": 30,
            "mqtt": {"host": broker.host, "port": broker.port, "password": k.password,
                     "reconnect_min_s": 0.2, "reconnect_max_s": 2}})
        agent = SyncAgent(config, identity=k.identity)
        agent.start()
        agents.append(agent)
    return agents


def settled(agents: list) -> int:
    return sum(a.stats().records_acked + a.stats().records_rejected for a in agents)


def wait_settled(agents: list, expected: int, timeout: float, broker_rss: list[float], pid: int) -> float:
    t0 = time.monotonic()
    while settled(agents) < expected:
        if time.monotonic() - t0 > timeout:
            raise TimeoutError(f"only {settled(agents)} of {expected} records settled in {timeout}s")
        broker_rss.append(rss_mb(pid))
        time.sleep(0.01)
    return time.monotonic() - t0


def live_writer(kiosks: list[Kiosk], stop: threading.Event, interval_s: float, limit: int,
                written: list[str]) -> None:
    """Keep writing new records round-robin across kiosks, as kiosks do while their backlog drains."""
    stores = [(k, open_store(k.store)) for k in kiosks]
    i = 0
    try:
        while not stop.is_set() and len(written) < limit:
            k, db = stores[i % len(stores)]
            written.append(append_record(db, k.identity, observation(i, time.time())).record_id)
            i += 1
            time.sleep(interval_s)
    finally:
        for _, db in stores:
            db.conn.close()


def latencies_ms(engine: sa.Engine, record_ids: list[str]) -> list[float]:
    from hajiri_common.timefmt import parse_utc_iso

    out = []
    with engine.connect() as conn:
        for i in range(0, len(record_ids), 500):
            rows = conn.execute(sa.select(records.c.wall_time, records.c.received_at)
                                .where(records.c.record_id.in_(record_ids[i:i + 500]))).all()
            out += [(parse_utc_iso(r.received_at) - parse_utc_iso(r.wall_time)).total_seconds() * 1000
                    for r in rows]
    return out


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 1)
    return round(statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1], 1)


def proc_cpu_s(name: str | None = None, pid: int | None = None) -> float:
    """CPU seconds used so far by one process, or by every process called `name` (e.g. the PostgreSQL
    backends on this machine; 0 when they run elsewhere or cannot be read)."""
    ticks = os.sysconf("SC_CLK_TCK")
    pids = [pid] if pid is not None else [p.name for p in Path("/proc").iterdir() if p.name.isdigit()]
    total = 0.0
    for p in pids:
        try:
            stat = Path(f"/proc/{p}/stat").read_text()
        except OSError:
            continue
        comm, rest = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
        if name is None or comm == name:
            total += (int(rest[11]) + int(rest[12])) / ticks  # utime, stime
    return total


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def audit(engine: sa.Engine, kiosks: list[Kiosk]) -> dict:
    """Lost: a kiosk record the central DB lacks. Duplicated: a central row beyond one per kiosk record."""
    kiosk_ids: set[str] = set()
    for k in kiosks:
        db = open_store(k.store)
        kiosk_ids.update(r.record_id for r in all_records(db))
        db.conn.close()
    with engine.connect() as conn:
        central = [r[0] for r in conn.execute(sa.select(records.c.record_id))]
        bad = conn.execute(sa.select(records.c.device_id, records.c.seq, records.c.chain_ok, records.c.chain_note)
                           .where(sa.or_(records.c.chain_ok.is_(None), records.c.chain_ok.is_(False)))).all()
        for row in bad[:20]:
            log.warning("chain link not settled: %s seq %d chain_ok=%s (%s)", *row)
        unlinked = len(bad)
    # Every central row beyond one per kiosk record is a double (the primary key makes exact repeats
    # impossible, so this also catches rows no kiosk wrote).
    return {"lost": len(kiosk_ids - set(central)), "duplicated": len(central) - len(set(central) & kiosk_ids),
            "chain_unlinked": unlinked, "kiosk_records": len(kiosk_ids)}


def run_bench(args: argparse.Namespace) -> dict:
    load_at_start = round(os.getloadavg()[0], 2)
    work = Path(tempfile.mkdtemp(prefix="hajiri-bench-sync-"))
    drop = None
    if args.database:
        url, drop = temp_postgres(args.database)
        database = "postgresql"
    else:
        url, database = f"sqlite:///{work / 'central.db'}", "sqlite"
    engine = make_engine(url)
    broker = None
    procs, stop, ready, agents = [], None, None, []
    try:
        migrate(engine)
        t = time.monotonic()
        kiosks = make_kiosks(work, engine, args.devices, args.records)
        log.info("setup: %d records in %d outboxes in %.1fs", args.records, args.devices, time.monotonic() - t)
        server_password = secrets.token_urlsafe(16)
        users = {SERVER_USER: server_password, **{k.identity.device_id: k.password for k in kiosks}}
        broker = LocalBroker(work / "broker", users).start()

        payloads = batch_payloads(kiosks[0], args.batch_size)
        per_batch = [len(json.loads(p)["records"]) for p in payloads]
        verify_rate = baseline_verify(payloads, kiosks[0].identity.public_key_b64)
        mqtt_rate = baseline_mqtt(broker, kiosks[0], server_password, payloads, per_batch)

        procs, stop, ready = start_workers(args.workers, url, broker, server_password)
        cpu0, broker_cpu0, pg_cpu0 = cpu_s(), proc_cpu_s(pid=broker.proc.pid), proc_cpu_s("postgres")
        broker_rss: list[float] = [rss_mb(broker.proc.pid)]
        stop_live = threading.Event()
        during: list[str] = []
        writer = threading.Thread(target=live_writer, args=(kiosks, stop_live, 1 / args.during_rate, 100_000, during), daemon=True)
        t0 = time.monotonic()
        agents = start_agents(kiosks, broker, args.batch_size, args.window)
        if args.during_rate > 0:
            writer.start()
        while settled(agents) < args.records and time.monotonic() - t0 < args.timeout:
            broker_rss.append(rss_mb(broker.proc.pid))
            time.sleep(0.01)
        drain_s = time.monotonic() - t0
        stop_live.set()
        if writer.is_alive():
            writer.join()
        if settled(agents) < args.records:
            raise TimeoutError(f"only {settled(agents)} of {args.records} settled in {args.timeout}s")
        wait_settled(agents, args.records + len(during), 30, broker_rss, broker.proc.pid)

        # Steady state: records written one at a time after the backlog is gone.
        steady: list[str] = []
        live_writer(kiosks, threading.Event(), 1 / args.live_rate, args.live_records, steady)
        wait_settled(agents, args.records + len(during) + len(steady), 30, broker_rss, broker.proc.pid)

        bench_cpu = cpu_s() - cpu0
        broker_cpu = proc_cpu_s(pid=broker.proc.pid) - broker_cpu0
        pg_cpu = proc_cpu_s("postgres") - pg_cpu0
        for a in agents:
            a.stop()
        agents = []
        workers_cpu = stop_workers(procs, stop, ready)
        procs = []
        lat = latencies_ms(engine, steady)
        lat_during = latencies_ms(engine, during)
        counts = audit(engine, kiosks)
        return {
            "devices": args.devices, "records": args.records, "workers": args.workers, "database": database,
            "drain_s": round(drain_s, 2), "records_per_s": round(args.records / drain_s),
            "latency_ms_p50": percentile(lat, 50), "latency_ms_p95": percentile(lat, 95),
            "latency_during_drain_ms_p95": percentile(lat_during, 95),
            "live_records": len(steady), "live_during_drain": len(during),
            "lost": counts["lost"], "duplicated": counts["duplicated"], "chain_unlinked": counts["chain_unlinked"],
            "rejected": sum(a.stats().records_rejected for a in agents),
            "broker_rss_mb": round(max(broker_rss), 1),
            "cpu_s_workers": round(workers_cpu, 1), "cpu_s_agents": round(bench_cpu, 1),
            "cpu_s_broker": round(broker_cpu, 1), "cpu_s_postgres": round(pg_cpu, 1),
            "batch_size": args.batch_size, "window": args.window,
            "baseline_mqtt_records_per_s": round(mqtt_rate),
            "baseline_verify_records_per_s_one_core": round(verify_rate),
            # Other work on the machine skews every figure above: say how busy it was when we started.
            "load_avg_1m_at_start": load_at_start,
        }
    finally:
        for a in agents:
            try:
                a.stop()
            except Exception as e:  # noqa: BLE001 - report, keep tearing down
                log.warning("agent stop: %s", e)
        if procs:
            stop_workers(procs, stop, ready)
        if broker is not None:
            broker.kill()
        engine.dispose()
        if drop is not None:
            drop()
        shutil.rmtree(work, ignore_errors=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.sync", description=__doc__.split("\n\n")[0])
    p.add_argument("--devices", type=int, default=10, help="simulated kiosks (default 10)")
    p.add_argument("--records", type=int, default=20_000, help="records in all outboxes together (default 20000)")
    p.add_argument("--database", default=None,
                   help="PostgreSQL URL; a temporary database is created beside it and dropped (default SQLite)")
    p.add_argument("--workers", type=int, default=2, help="ingest worker processes (default 2)")
    p.add_argument("--batch-size", type=int, default=200, help="records per MQTT batch (default 200)")
    p.add_argument("--window", type=int, default=2, help="batches in flight per kiosk (default 2)")
    p.add_argument("--live-records", type=int, default=300, help="records written after the drain, for latency")
    p.add_argument("--live-rate", type=float, default=100.0, help="records/s of the after-drain writer")
    p.add_argument("--during-rate", type=float, default=50.0,
                   help="records/s written while the backlog drains, to see new records interleave (0: none)")
    p.add_argument("--timeout", type=float, default=300.0, help="give up after this many seconds of draining")
    args = p.parse_args(argv)
    if args.devices < 1 or args.records < args.devices or args.workers < 1:
        p.error("need --devices >= 1, --records >= --devices, --workers >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s: %(message)s")
    for noisy in ("sync_agent", "central_server", "kiosk"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    result = run_bench(parse_args(argv))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
