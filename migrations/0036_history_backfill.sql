-- A poll cut short by SCANNER_MAX_COMMITS_PER_POLL leaves part of a repository's history to take
-- (the repository stays due, so the next poll goes on): history_incomplete says so until a poll
-- takes the rest, and the API's sync health shows the backfill as in progress meanwhile.

set local role dashboard_owner;
set local search_path to app, public;

alter table repositories add column history_incomplete boolean not null default false;

reset role;
