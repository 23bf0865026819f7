"""The office directory: each site with its district, department and head count, for lists and roll-ups."""

import sqlalchemy as sa

from central_server.db.schema import departments, employees, site_details, sites


def site_directory(conn: sa.Connection, site_ids: set[str] | None = None, district: str | None = None
                   ) -> list[dict]:
    """Sites (all, or those in `site_ids`, or one district's) by district then name, with active employees."""
    heads = (sa.select(employees.c.site_id, sa.func.count().label("n")).where(employees.c.active)
             .group_by(employees.c.site_id).subquery())
    q = (sa.select(sites.c.site_id, sites.c.name, sites.c.kind, site_details.c.district,
                   departments.c.name.label("department"), sa.func.coalesce(heads.c.n, 0).label("employees"))
         .select_from(sites.outerjoin(site_details, site_details.c.site_id == sites.c.site_id)
                      .outerjoin(departments, departments.c.department_id == site_details.c.department_id)
                      .outerjoin(heads, heads.c.site_id == sites.c.site_id))
         .order_by(site_details.c.district, sites.c.name))
    if site_ids is not None:
        q = q.where(sites.c.site_id.in_(sorted(site_ids)))
    if district is not None:
        q = q.where(sa.func.lower(sa.func.trim(site_details.c.district)) == district.strip().lower())
    return [dict(r._mapping) for r in conn.execute(q)]
