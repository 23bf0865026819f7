"""The sync agent against a real mosquitto, real SQLite outbox and a real acking peer: at least once, nothing lost."""

import threading
import time

import pytest

from hajiri_common.timefmt import utc_iso
from hajiri_wire import Ack, AckResult, encode_ack, verify_chain
from kiosk.store import open_store
from provisioning.broker import LocalBroker

pytestmark = pytest.mark.slow


def store_rows(store_path):
    db = open_store(store_path)
    try:
        return {r[0]: (r[1], r[2]) for r in
                db.execute("SELECT record_id, status, reject_reason FROM records ORDER BY seq").fetchall()}
    finally:
        db.close()


def assert_all_delivered(peer, written):
    """The peer holds every written record, intact: same ids, a whole hash chain from genesis."""
    assert set(peer.stored) == {r.record_id for r in written}
    delivered = sorted(peer.stored.values(), key=lambda r: r.seq)
    assert verify_chain(delivered) == []


def test_every_record_is_published_and_acked_exactly_once(broker, start_peer, start_agent, write_records,
                                                         counts, peer_mod):
    peer = start_peer(broker)
    written = write_records(23)
    agent = start_agent(broker)

    peer_mod.wait_until(lambda: counts()["acked"] == 23, what="all 23 records acked")
    assert counts() == {"pending": 0, "acked": 23, "rejected": 0}
    assert_all_delivered(peer, written)
    peer_mod.wait_until(lambda: agent.stats().queue_depth == 0, what="stats to see an empty outbox")
    stats = agent.stats()
    # Each record counted once as acked however often it travelled.
    assert stats.records_acked == 23 and stats.records_rejected == 0
    assert stats.records_published >= 23 and stats.batches_published >= 5  # batch_size 5
    assert stats.connected and stats.malformed_acks == 0
    assert stats.oldest_unsent_age_s is None


def test_records_written_while_running_are_picked_up(broker, start_peer, start_agent, write_records, counts,
                                                     peer_mod):
    peer = start_peer(broker)
    agent = start_agent(broker)
    peer_mod.wait_until(lambda: agent.stats().connected, what="agent connected")
    written = write_records(4)
    peer_mod.wait_until(lambda: counts()["acked"] == 4, what="first 4 acked")
    written += write_records(9)
    peer_mod.wait_until(lambda: counts()["acked"] == 13, what="all 13 acked")
    assert_all_delivered(peer, written)


def test_agent_started_while_broker_down_catches_up(tmp_path, broker_accounts, mosquitto_available, start_peer,
                                                    start_agent, write_records, counts, peer_mod):
    broker = LocalBroker(tmp_path / "late-broker", broker_accounts.users())  # port fixed now, started later
    try:
        written = write_records(12)
        agent = start_agent(broker)
        peer_mod.wait_until(lambda: "cannot reach broker" in (agent.stats().last_error or ""),
                            what="agent to notice the broker is down")
        time.sleep(0.5)  # several refused connection attempts: none may kill the agent
        stats = agent.stats()
        assert not stats.connected and stats.batches_published == 0
        assert counts() == {"pending": 12, "acked": 0, "rejected": 0}

        broker.start()
        peer = start_peer(broker)
        peer_mod.wait_until(lambda: counts()["acked"] == 12, what="catch-up after the broker came up")
        assert_all_delivered(peer, written)
    finally:
        broker.kill()


def test_broker_killed_mid_stream_loses_nothing(tmp_path, broker_accounts, mosquitto_available, start_peer,
                                                start_agent, write_records, device, store_path, counts,
                                                peer_mod):
    broker = LocalBroker(tmp_path / "flaky-broker", broker_accounts.users()).start()
    try:
        peer = start_peer(broker)
        agent = start_agent(broker)
        written = write_records(10)
        peer_mod.wait_until(lambda: counts()["acked"] >= 5, what="some records acked before the crash")

        # The kiosk keeps recording through the crash, from its own connection, as the real one does.
        stop_writing = threading.Event()
        more: list = []

        def keep_writing():
            while not stop_writing.is_set():
                more.extend(write_records(1))
                time.sleep(0.01)

        writer = threading.Thread(target=keep_writing)
        writer.start()
        try:
            time.sleep(0.2)
            broker.kill()  # SIGKILL: no goodbye to anyone, in-flight publishes and acks may vanish
            peer_mod.wait_until(lambda: not agent.stats().connected, what="agent to see the broker gone")
            time.sleep(0.5)
            broker.start()
            time.sleep(0.3)
        finally:
            stop_writing.set()
            writer.join()
        total = len(written) + len(more)
        peer_mod.wait_until(lambda: counts()["acked"] == total, timeout=20,
                            what=f"all {total} records acked after the restart")
        assert counts() == {"pending": 0, "acked": total, "rejected": 0}
        assert_all_delivered(peer, written + more)
        assert agent.stats().connects >= 2
    finally:
        broker.kill()


def test_broker_that_lost_its_state_gets_everything_again_at_once(tmp_path, broker_accounts, mosquitto_available,
                                                                  start_peer, start_agent, write_records, counts,
                                                                  peer_mod):
    broker = LocalBroker(tmp_path / "amnesic-broker", broker_accounts.users()).start()
    try:
        written = write_records(8)
        peer = start_peer(broker, paused=True)
        # ack_timeout far beyond this test: no timed resend will help. A fixed 2 s reconnect wait lets the
        # peer (0.1-0.5 s) resubscribe first, so what the agent sends on reconnect has a listener.
        agent = start_agent(broker, ack_timeout_s=60, mqtt={"reconnect_min_s": 2.0, "reconnect_max_s": 2.0,
                                                            "reconnect_jitter": 0.0})
        peer_mod.wait_until(lambda: len(set(peer.received)) == 8, what="records reached the peer")
        broker.kill()
        for f in (tmp_path / "amnesic-broker" / "data").iterdir():
            f.unlink()  # the broker comes back with no session: no subscription, nothing queued
        peer.forget_held()
        broker.start()
        peer_mod.wait_until(lambda: peer.subscriptions == 2, what="the peer to resubscribe")
        assert agent.stats().connects == 1, "test premise: the peer must be back before the agent"
        # A new session means nothing in flight will be answered: the agent must resubscribe and resend now.
        peer_mod.wait_until(lambda: counts()["acked"] == 8, timeout=8, what="all acked without a timed resend")
        assert_all_delivered(peer, written)
        assert agent.stats().batches_resent >= 1
    finally:
        broker.kill()


def test_nothing_is_acked_while_the_server_is_silent(broker, start_peer, start_agent, write_records, counts,
                                                     peer_mod):
    written = write_records(8)
    agent = start_agent(broker, ack_timeout_s=0.5)
    peer_mod.wait_until(lambda: agent.stats().batches_resent >= 2, what="resends with nobody acking")
    assert counts() == {"pending": 8, "acked": 0, "rejected": 0}
    assert agent.stats().records_acked == 0
    assert agent.stats().oldest_unsent_age_s is not None

    peer = start_peer(broker)  # the ingest worker comes back: the next resend gets through
    peer_mod.wait_until(lambda: counts()["acked"] == 8, what="all acked once the peer runs")
    assert_all_delivered(peer, written)


def test_only_records_named_in_an_ack_are_settled(broker, start_peer, start_agent, write_records, store_path,
                                                  peer_mod):
    written = write_records(10)
    peer = start_peer(broker, ack_if=lambda r: r.seq % 2 == 0)
    agent = start_agent(broker, ack_timeout_s=0.3)
    peer_mod.wait_until(lambda: agent.stats().records_acked == 5, what="the even seqs acked")
    peer_mod.wait_until(lambda: agent.stats().batches_resent >= 2, what="odd seqs resent")
    rows = store_rows(store_path)
    for r in written:
        assert rows[r.record_id][0] == ("acked" if r.seq % 2 == 0 else "pending"), f"seq {r.seq}"
    assert len(set(peer.received)) == 10  # the odd ones did arrive: only the ack makes a record settled


def test_rejected_result_marks_the_record_rejected_with_reason(broker, start_peer, start_agent, write_records,
                                                               store_path, counts, peer_mod):
    written = write_records(6)
    start_peer(broker, reject=lambda r: "person_not_enrolled" if r.seq in (2, 5) else None)
    agent = start_agent(broker)
    peer_mod.wait_until(lambda: counts()["pending"] == 0, what="every record answered")
    assert counts() == {"pending": 0, "acked": 4, "rejected": 2}
    rows = store_rows(store_path)
    for r in written:
        expected = ("rejected", "person_not_enrolled") if r.seq in (2, 5) else ("acked", None)
        assert rows[r.record_id] == expected
    stats = agent.stats()
    assert stats.records_rejected == 2 and stats.records_acked == 4


def test_malformed_and_misaddressed_acks_are_counted_and_ignored(broker, start_peer, start_agent,
                                                                  write_records, counts, device, peer_mod):
    written = write_records(5)
    peer = start_peer(broker, paused=True)  # receives, holds, acks nothing yet
    agent = start_agent(broker)
    peer_mod.wait_until(lambda: len(set(peer.received)) == 5, what="records reached the peer")

    peer.publish_raw(device.device_id, b"{not json")
    peer.publish_raw(device.device_id, b'{"schema_version": 1, "device_id": "kiosk-01"}')
    # A well-formed ack naming another device must not settle kiosk-01's records, even on its topic.
    stray = Ack(device_id="kiosk-02", server_time=utc_iso(time.time()),
                results=[AckResult(record_id=r.record_id, status="stored") for r in written])
    peer.publish_raw(device.device_id, encode_ack(stray))
    peer_mod.wait_until(lambda: agent.stats().malformed_acks == 3, what="3 bad acks counted")
    assert counts() == {"pending": 5, "acked": 0, "rejected": 0}
    assert "kiosk-02" in agent.stats().last_error

    peer.release()  # the real acks: the agent goes on as if nothing happened
    peer_mod.wait_until(lambda: counts()["acked"] == 5, what="all acked after the bad ones")
    assert agent.stats().malformed_acks == 3


def test_acks_sent_while_the_kiosk_is_offline_reach_it(broker, start_peer, start_agent, write_records, counts,
                                                       peer_mod):
    write_records(7)
    peer = start_peer(broker, paused=True)
    agent = start_agent(broker, ack_timeout_s=60)
    peer_mod.wait_until(lambda: len(set(peer.received)) == 7, what="records reached the peer")
    agent.stop()
    assert counts()["pending"] == 7

    peer.release()  # the server commits and acks while the kiosk is off: the broker keeps them for its session
    peer.paused = True  # acks nothing the next agent sends
    time.sleep(0.3)
    acks_before = peer.acks_sent
    start_agent(broker, ack_timeout_s=60)
    peer_mod.wait_until(lambda: counts()["acked"] == 7, what="queued acks delivered on reconnect")
    assert peer.acks_sent == acks_before  # settled by the acks queued while offline, not by new ones


def test_wrong_password_is_reported_not_fatal(broker, start_agent, write_records, counts, peer_mod):
    write_records(2)
    agent = start_agent(broker, mqtt={"password": "not-the-password"})
    peer_mod.wait_until(lambda: "refused" in (agent.stats().last_error or ""), what="refusal reported")
    assert not agent.stats().connected
    assert counts()["pending"] == 2
