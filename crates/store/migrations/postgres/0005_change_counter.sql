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
CREATE FUNCTION bump_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE change_counter SET generation = generation + 1 WHERE id = 1;
    RETURN NULL;
END;
$$;
CREATE TRIGGER tenants_bumps_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tenants
    FOR EACH STATEMENT EXECUTE FUNCTION bump_generation();
CREATE TRIGGER users_bumps_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION bump_generation();
CREATE TRIGGER groups_bumps_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON groups
    FOR EACH STATEMENT EXECUTE FUNCTION bump_generation();
CREATE TRIGGER group_user_members_bumps_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON group_user_members
    FOR EACH STATEMENT EXECUTE FUNCTION bump_generation();
CREATE TRIGGER group_group_members_bumps_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON group_group_members
    FOR EACH STATEMENT EXECUTE FUNCTION bump_generation();
CREATE TRIGGER apps_bumps_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON apps
    FOR EACH STATEMENT EXECUTE FUNCTION bump_generation();
CREATE TRIGGER app_identifiers_bumps_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON app_identifiers
    FOR EACH STATEMENT EXECUTE FUNCTION bump_generation();
CREATE TRIGGER signing_certs_bumps_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON signing_certs
    FOR EACH STATEMENT EXECUTE FUNCTION bump_generation();
CREATE TRIGGER app_user_assignments_bumps_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON app_user_assignments
    FOR EACH STATEMENT EXECUTE FUNCTION bump_generation();
CREATE TRIGGER app_group_assignments_bumps_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON app_group_assignments
    FOR EACH STATEMENT EXECUTE FUNCTION bump_generation();
CREATE TRIGGER settings_bumps_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON settings
    FOR EACH STATEMENT EXECUTE FUNCTION bump_generation();
