-- The directory's change counter: one number that every write to a table the SSO path reads
-- (tenants, users, groups, memberships, apps, identifiers, certificates, assignments, settings)
-- bumps in the same transaction, by trigger, so no code path can forget it. The IdP caches what
-- it read at one generation and drops the cache when the number moves: one cheap read per
-- request instead of six, and a change made by the CLI or another node is seen by the next
-- request. Sessions, sign-in logs, roles and API tokens do not bump it (they change on every
-- sign-in and are not cached).
CREATE TABLE change_counter (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    generation BIGINT NOT NULL
);
INSERT INTO change_counter (id, generation) VALUES (1, 0);
CREATE TRIGGER tenants_insert_bumps_generation AFTER INSERT ON tenants
BEGIN UPDATE change_counter SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER tenants_update_bumps_generation AFTER UPDATE ON tenants
BEGIN UPDATE change_counter SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER tenants_delete_bumps_generation AFTER DELETE ON tenants
BEGIN UPDATE change_counter SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER users_insert_bumps_generation AFTER INSERT ON users
BEGIN UPDATE change_counter SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER users_update_bumps_generation AFTER UPDATE ON users
BEGIN UPDATE change_counter SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER users_delete_bumps_generation AFTER DELETE ON users
BEGIN UPDATE change_counter SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER groups_insert_bumps_generation AFTER INSERT ON groups
BEGIN UPDATE change_counter SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER groups_update_bumps_generation AFTER UPDATE ON groups
BEGIN UPDATE change_counter SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER groups_delete_bumps_generation AFTER DELETE ON groups
BEGIN UPDATE change_counter SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER group_user_members_insert_bumps_generation AFTER INSERT ON group_user_members
BEGIN UPDATE change_counter SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER group_user_members_update_bumps_generation AFTER UPDATE ON group_user_members
BEGIN UPDATE change_counter SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER group_user_members_delete_bumps_generation AFTER DELETE ON group_user_members
BEGIN UPDATE change_counter SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER group_group_members_insert_bumps_generation AFTER INSERT ON group_group_members
BEGIN UPDATE change_counter SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER group_group_members_update_bumps_generation AFTER UPDATE ON group_group_members
BEGIN UPDATE change_counter SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER group_group_members_delete_bumps_generation AFTER DELETE ON group_group_members
BEGIN UPDATE change_counter SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER apps_insert_bumps_generation AFTER INSERT ON apps
BEGIN UPDATE change_counter SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER apps_update_bumps_generation AFTER UPDATE ON apps
BEGIN UPDATE change_counter SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER apps_delete_bumps_generation AFTER DELETE ON apps
BEGIN UPDATE change_counter SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER app_identifiers_insert_bumps_generation AFTER INSERT ON app_identifiers
BEGIN UPDATE change_counter SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER app_identifiers_update_bumps_generation AFTER UPDATE ON app_identifiers
BEGIN UPDATE change_counter SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER app_identifiers_delete_bumps_generation AFTER DELETE ON app_identifiers
BEGIN UPDATE change_counter SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER signing_certs_insert_bumps_generation AFTER INSERT ON signing_certs
BEGIN UPDATE change_counter SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER signing_certs_update_bumps_generation AFTER UPDATE ON signing_certs
BEGIN UPDATE change_counter SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER signing_certs_delete_bumps_generation AFTER DELETE ON signing_certs
BEGIN UPDATE change_counter SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER app_user_assignments_insert_bumps_generation AFTER INSERT ON app_user_assignments
BEGIN UPDATE change_counter SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER app_user_assignments_update_bumps_generation AFTER UPDATE ON app_user_assignments
BEGIN UPDATE change_counter SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER app_user_assignments_delete_bumps_generation AFTER DELETE ON app_user_assignments
BEGIN UPDATE change_counter SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER app_group_assignments_insert_bumps_generation AFTER INSERT ON app_group_assignments
BEGIN UPDATE change_counter SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER app_group_assignments_update_bumps_generation AFTER UPDATE ON app_group_assignments
BEGIN UPDATE change_counter SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER app_group_assignments_delete_bumps_generation AFTER DELETE ON app_group_assignments
BEGIN UPDATE change_counter SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER settings_insert_bumps_generation AFTER INSERT ON settings
BEGIN UPDATE change_counter SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER settings_update_bumps_generation AFTER UPDATE ON settings
BEGIN UPDATE change_counter SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER settings_delete_bumps_generation AFTER DELETE ON settings
BEGIN UPDATE change_counter SET generation = generation + 1 WHERE id = 1; END;
