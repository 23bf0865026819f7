"""A state's worth of attendance for the web benchmark: N employees in M offices over D districts with a month
of stored days, kiosk records, mobile check-ins, leave, tours and open explanation requests, in bulk inserts.

The rows have the shape and size of real ones (the pages read them; nothing verifies signatures on a read), so
this is fast enough to seed 50,000 employees; the real ingest path is measured by bench.sync. Stored days are
stamped as the day settler (central_server.attendance.day_settler) leaves them: computed after the shift."""

import json
import random
from collections.abc import Iterator
from datetime import date, timedelta

import sqlalchemy as sa

from bench.reports import SHIFTS, STAMP, day_row
from central_server.db.schema import (
    attendance_days,
    checkins,
    departments,
    devices,
    employees,
    explanations,
    holidays,
    leaves,
    people,
    records,
    shifts,
    site_details,
    sites,
    tours,
)

MONTH = date(2026, 11, 1)  # November 2026: 30 days, over by "today" in the benchmark
BIG_SITE = "office-0000"  # the 500-person office the board is opened on
GIVEN = ["सुनीता", "राजेश", "क्षितिज", "Meena", "Anil", "पूजा", "Kavita", "संजय", "Ravi", "अनीता", "Vikram", "नेहा"]
FAMILY = ["वर्मा", "Kumar", "त्रिपाठी", "Yadav", "शर्मा", "Singh", "पटेल", "Rao", "मिश्रा", "Gupta"]
CHUNK = 20_000


def site_sizes(n_employees: int, n_sites: int, big: int) -> list[int]:
    """Employees per office: one office of `big`, the rest share what is left evenly."""
    rest = n_employees - big
    base, extra = divmod(rest, n_sites - 1)
    return [big] + [base + (1 if i < extra else 0) for i in range(n_sites - 1)]


def _chunks(rows: list[dict]) -> Iterator[list[dict]]:
    for i in range(0, len(rows), CHUNK):
        yield rows[i:i + CHUNK]


def bulk_insert(conn: sa.Connection, table: sa.Table, rows: list[dict]) -> None:
    """Rows straight to the driver: COPY on PostgreSQL, executemany of tuples on SQLite (SQLAlchemy's per-row
    dict handling costs more than the database's own work at these volumes)."""
    if not rows:
        return
    cols = list(rows[0])
    cursor = conn.connection.driver_connection.cursor()
    if conn.dialect.name == "postgresql":
        with cursor.copy(f"COPY {table.name} ({', '.join(cols)}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row(tuple(r[c] for c in cols))
        return
    sql = f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    for part in _chunks(rows):
        cursor.executemany(sql, [tuple(r[c] for c in cols) for r in part])


def _record(n: int, device: str, site: str, seq: int, emp: str, event: str, wall: str) -> dict:
    body = json.dumps({"v": 1, "record_id": f"r-{n:09d}", "device_id": device, "site_id": site, "seq": seq,
                       "person_id": emp, "event": event, "wall_time": wall, "boot_id": "boot-1",
                       "mono_ns": seq * 10**9, "clock_synced": True, "match_score": 0.71,
                       "liveness_score": 0.93, "model_version": "sface-2021dec"})
    return {"record_id": f"r-{n:09d}", "device_id": device, "site_id": site, "seq": seq, "person_id": emp,
            "event": event, "wall_time": wall, "boot_id": "boot-1", "mono_ns": seq * 10**9, "clock_synced": True,
            "match_score": 0.71, "liveness_score": 0.93, "model_version": "sface-2021dec", "prev_hash": "0" * 64,
            "hash": f"{n:064x}", "sig": "s" * 88, "body": body, "received_at": wall, "chain_ok": True,
            "chain_note": None}


def _checkin(n: int, emp: str, event: str, wall: str, lat: float, lon: float, outside: bool) -> dict:
    return {"checkin_id": f"c-{n:09d}", "employee_id": emp, "idempotency_key": f"k-{n}", "event": event,
            "lat": lat + (0.02 if outside else 0.0), "lon": lon, "accuracy_m": 12.0, "device_time": wall,
            "event_time": wall, "received_at": wall, "geofence_id": None,
            "distance_m": 2100.0 if outside else 0.0, "flags": "outside_geofence" if outside else "",
            "selfie_sha256": f"{n:064x}", "selfie_status": "matched", "mock_location": False,
            "app_version": "bench"}


def seed_state(engine: sa.Engine, n_employees: int, n_sites: int, n_districts: int, big: int,
               rng: random.Random, n_days: int = 30) -> dict:
    """Seed everything; returns counts of what was written."""
    days = [MONTH + timedelta(days=i) for i in range(n_days)]
    site_ids = [f"office-{i:04d}" for i in range(n_sites)]
    district_of = {s: f"District {i % n_districts + 1:02d}" for i, s in enumerate(site_ids)}
    state_holiday = MONTH + timedelta(days=14)  # Nov 15
    counts = dict.fromkeys(("employees", "days", "records", "checkins", "leaves", "tours", "explanations"), 0)
    with engine.begin() as conn:
        conn.execute(sa.insert(departments), [{"department_id": f"dept-{k}", "name": name, "created_at": STAMP}
                                              for k, name in enumerate(["शिक्षा विभाग", "Revenue", "Health"])])
        conn.execute(sa.insert(sites), [{"site_id": s, "name": f"कार्यालय {i:04d} / Office {i:04d}", "kind": "office",
                                         "created_at": STAMP} for i, s in enumerate(site_ids)])
        conn.execute(sa.insert(site_details), [{"site_id": s, "district": district_of[s], "department_id":
                                                f"dept-{i % 3}", "lat": 23.2 + i * 1e-3, "lon": 77.0 + i * 1e-3}
                                               for i, s in enumerate(site_ids)])
        conn.execute(sa.insert(devices), [{"device_id": f"kiosk-{s}", "site_id": s, "public_key": "k" * 44,
                                           "status": "active", "registered_at": STAMP} for s in site_ids])
        conn.execute(sa.insert(shifts), [
            {"shift_id": r.shift_id, "name": r.shift_id, "start_time": r.start_time, "end_time": r.end_time,
             "grace_late_min": r.grace_late_min, "grace_early_min": r.grace_early_min,
             "half_day_hours": r.half_day_hours, "absent_hours": r.absent_hours, "overnight": r.overnight,
             "weekly_off": ",".join(r.weekly_off), "created_at": STAMP} for k, r in SHIFTS.items() if k])
        conn.execute(sa.insert(holidays), [{"day": state_holiday.isoformat(), "site_id": None, "name": "State holiday"}])
    emp_n = rec_n = chk_n = 0
    for site_index, (site, size) in enumerate(zip(site_ids, site_sizes(n_employees, n_sites, big), strict=True)):
        emps, ppl, day_rows, recs, chks, lvs, trs, exps = [], [], [], [], [], [], [], []
        seq = 0
        lat, lon = 23.2 + site_index * 1e-3, 77.0 + site_index * 1e-3
        for _ in range(size):
            emp = f"emp-{emp_n:06d}"
            emp_n += 1
            name = f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}"
            shift_id = rng.choices([None, "early-5day", "field-6day"], [6, 3, 1])[0]
            field = shift_id == "field-6day"  # field staff check in from their phones
            emps.append({"employee_id": emp, "name": name, "role": "staff", "site_id": site, "shift_id": shift_id,
                         "active": True, "created_at": STAMP})
            ppl.append({"person_id": emp, "name": name, "site_id": site, "created_at": STAMP})
            ctx: dict[date, str] = {}
            if rng.random() < 0.05:
                first = rng.randrange(n_days)
                span = days[first:first + rng.randint(1, 3)]
                trs.append({"employee_id": emp, "from_day": span[0].isoformat(), "to_day": span[-1].isoformat(),
                            "purpose": "ग्राम निरीक्षण", "approved": True, "created_at": STAMP})
                ctx.update(dict.fromkeys(span, "on_tour"))
            if rng.random() < 0.12:
                first = rng.randrange(n_days)
                span = days[first:first + rng.randint(1, 4)]
                lvs.append({"employee_id": emp, "from_day": span[0].isoformat(), "to_day": span[-1].isoformat(),
                            "kind": rng.choice(["casual", "earned", "medical"]), "approved": True,
                            "created_at": STAMP})
                ctx.update(dict.fromkeys(span, "on_leave"))
            rule = SHIFTS[shift_id]
            for day in days:
                c = "holiday" if day == state_holiday else "weekly_off" if rule.is_weekly_off(day) else ctx.get(day)
                # Stamped late that evening, as the server's day settler leaves a day once its shift is over.
                row = {**day_row(rng, emp, site, day, rule, c), "computed_at": f"{day.isoformat()}T18:29:00.000Z"}
                day_rows.append(row)
                for event, wall in (("IN", row["first_in"]), ("OUT", row["last_out"])):
                    if wall is None:
                        continue
                    if field:
                        chk_n += 1
                        chks.append(_checkin(chk_n, emp, event, wall, lat, lon, rng.random() < 0.1))
                    else:
                        rec_n += 1
                        seq += 1
                        recs.append(_record(rec_n, f"kiosk-{site}", site, seq, emp, event, wall))
                if row["status"] in ("late", "absent") and day >= days[-7]:
                    exps.append({"employee_id": emp, "day": day.isoformat(), "reason": row["status"],
                                 "ref": day.isoformat(), "status": "open", "reply": None,
                                 "decided_by": None, "decision_note": None, "created_at": STAMP,
                                 "updated_at": STAMP})
        with engine.begin() as conn:
            for table, rows in ((employees, emps), (people, ppl), (attendance_days, day_rows), (records, recs),
                                (checkins, chks), (leaves, lvs), (tours, trs), (explanations, exps)):
                bulk_insert(conn, table, rows)
        counts["employees"] += len(emps)
        counts["days"] += len(day_rows)
        counts["records"] += len(recs)
        counts["checkins"] += len(chks)
        counts["leaves"] += len(lvs)
        counts["tours"] += len(trs)
        counts["explanations"] += len(exps)
    counts["sites"], counts["districts"] = n_sites, n_districts
    return counts
