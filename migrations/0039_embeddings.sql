-- Linking by meaning (functions/linker/src/semantic.rs): each commit's message and each task's title
-- as a sentence embedding, computed once by the linker when it first meets the row and reused by
-- every relink. 384 little-endian f32 (1,536 bytes), L2-normalised; null until computed, or when no
-- model is configured.
-- A task whose title changes gets its embedding again: the trigger forgets the stale one.

set local role dashboard_owner;
set local search_path to app, public;

alter table commits add column embedding bytea;
alter table tasks add column embedding bytea;

-- What is still to embed, found without reading the embedded rows.
create index commits_to_embed on commits (tenant_id, repository_id) where embedding is null;
create index tasks_to_embed on tasks (tenant_id, repository_id) where embedding is null and removed_at is null;

create function forget_stale_embedding() returns trigger
language plpgsql as $$
begin
  if new.title is distinct from old.title then
    new.embedding := null;
  end if;
  return new;
end $$;

create trigger tasks_forget_stale_embedding
  before update of title on tasks
  for each row execute function forget_stale_embedding();

reset role;
