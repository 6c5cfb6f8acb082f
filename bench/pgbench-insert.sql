-- SPDX-License-Identifier: MIT
-- pgbench script: one single-row INSERT per transaction, so every
-- transaction is one WAL flush (the commit-heavy case walthrough targets).
-- Needs: CREATE TABLE wt_commit (id bigserial PRIMARY KEY, v int, t timestamptz DEFAULT now());
INSERT INTO wt_commit (v) VALUES (:client_id);
