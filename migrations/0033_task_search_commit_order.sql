-- What the task and commit lists of the API need:
-- - tasks.search: the words of a task's title (weight A) and body (weight B), for full-text search
--   (`websearch_to_tsquery`), with a GIN index.
-- - lookup.tasks_matching: the search itself. Under row-level security a condition whose operator
--   is not leakproof is never an index condition (notes/rls.md P10), and `@@` is not leakproof, so
--   a search in a tenant transaction reads every task of the tenant (75 ms for 100,000 tasks). This
--   function reads the index as dashboard_lookup, only rows of the transaction's own tenant
--   (app.current_tenant_id(), never a parameter: it raises when no tenant is set), and returns only
--   ids and ranks, which the caller joins back to tasks under its own policy (4 ms).
-- - commits.dated_at: when a commit happened (committed, else authored, else first stored), the
--   order of the commit list, with indexes for the whole organization and per repository.
-- - commits_sha: a commit found by a prefix of its SHA in any repository (a range in byte order,
--   whatever the database's collation).

set local role dashboard_owner;
set local search_path to app, public;

alter table tasks add column search tsvector not null generated always as (
  setweight(to_tsvector('english', title), 'A')
  || setweight(to_tsvector('english', coalesce(body, '')), 'B')
) stored;
create index tasks_search on tasks using gin (search);

alter table commits add column dated_at timestamptz not null
  generated always as (coalesce(committed_at, authored_at, created_at)) stored;
create index commits_dated on commits (tenant_id, dated_at desc, id desc);
create index commits_repository_dated on commits (tenant_id, repository_id, dated_at desc, id desc);
create index commits_sha on commits (tenant_id, (sha collate "C"));

grant select (tenant_id, id, search) on tasks to dashboard_lookup;
create policy lookup_read on tasks for select to dashboard_lookup using (true);
grant execute on function current_tenant_id() to dashboard_lookup;

set local role dashboard_lookup;

-- The current tenant's tasks whose words match `p_query` (web search syntax: words, "a phrase",
-- or, -word), with their rank.
create function lookup.tasks_matching(p_query text)
returns table (task_id uuid, rank real)
language plpgsql stable security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  return query
    select t.id, ts_rank(t.search, q)
    from app.tasks t, websearch_to_tsquery('english', p_query) q
    where t.tenant_id = (select app.current_tenant_id()) and t.search @@ q;
end
$$;

revoke all on function lookup.tasks_matching(text) from public;
grant execute on function lookup.tasks_matching(text) to dashboard_app;

reset role;
