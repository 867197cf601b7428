-- The look-ups every authenticated request runs (lookup.membership for an access token,
-- lookup.api_token for an API token) return at most one row: a slug names one organization and an
-- account has one membership there; a token hash is unique. Declared as such, so the planner stops
-- assuming the default 1,000 rows of a set-returning function.
--
-- Why it matters (scripts/bench-auth, issue 13): the api opens each tenant transaction with
-- `select set_config(..., $2::text, true), ... from lookup.membership($1, $2)`. With 1,000 estimated
-- rows, casting the bound account id per row made the generic plan (cost 25.25) look no cheaper
-- than a custom plan (20.25) plus PostgreSQL's planning allowance (5), so the plan cache kept
-- planning that statement again on every request, for the life of the connection. With one row the
-- generic plan wins after the first five executions and is reused.
--
-- Only the planner's estimate changes: the functions' bodies, owner (dashboard_lookup), SECURITY
-- DEFINER with a fixed search_path and EXECUTE grants (dashboard_app only) stay as 0024 made them,
-- so the runtime role still learns a membership only for the slug and account it names, and every
-- request still reads the current membership and account state (J6, J7).

set local role dashboard_lookup;

alter function lookup.membership(text, uuid) rows 1;
alter function lookup.api_token(bytea) rows 1;

reset role;
