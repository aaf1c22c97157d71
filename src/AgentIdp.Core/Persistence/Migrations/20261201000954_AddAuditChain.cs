using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AgentIdp.Core.Persistence.Migrations
{
    /// <summary>
    /// The tamper-evident audit chain (AuditChain): seq, prev_hash and hash on every event, set by a trigger that
    /// serializes every writer on the one row of audit_chain_head; the events already stored are chained in the
    /// order they occurred. Self-contained: it touches audit_events and its own objects only.
    /// </summary>
    public partial class AddAuditChain : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Nullable until the events already stored are chained (below).
            migrationBuilder.AddColumn<long>(
                name: "seq",
                table: "audit_events",
                type: "bigint",
                nullable: true);

            migrationBuilder.AddColumn<byte[]>(
                name: "prev_hash",
                table: "audit_events",
                type: "bytea",
                nullable: true);

            migrationBuilder.AddColumn<byte[]>(
                name: "hash",
                table: "audit_events",
                type: "bytea",
                nullable: true);

            migrationBuilder.Sql("""
                -- The newest event's seq and hash: what the next event links to, and what tells a verifier that the
                -- newest events were not removed. One row, which every writer locks. The genesis is seq 0 and 32 zero bytes.
                CREATE TABLE audit_chain_head (
                    one boolean PRIMARY KEY DEFAULT true CHECK (one),
                    seq bigint NOT NULL,
                    hash bytea NOT NULL CHECK (octet_length(hash) = 32));

                -- One field of an event's canonical bytes: a 4-byte big-endian length then the bytes; NULL is the length -1.
                CREATE FUNCTION audit_chain_field(value bytea) RETURNS bytea LANGUAGE sql IMMUTABLE PARALLEL SAFE
                    RETURN coalesce(int4send(length(value)) || value, '\xffffffff'::bytea);

                -- An event's hash: SHA-256 of the previous event's hash and the event's canonical bytes. Written once more,
                -- independently, in AgentIdp.Core.Audit.AuditChain, and spelled out in docs/operations.md.
                -- STABLE rather than IMMUTABLE (convert_to and extract are stable), which also lets PostgreSQL inline it.
                CREATE FUNCTION audit_chain_hash(
                    prev_hash bytea, seq bigint, id uuid, occurred_at timestamptz, action text, outcome text,
                    agent_id uuid, actor text, ip inet, details jsonb) RETURNS bytea LANGUAGE sql STABLE PARALLEL SAFE
                    RETURN sha256(prev_hash
                        || audit_chain_field(int8send(seq))
                        || audit_chain_field(uuid_send(id))
                        || audit_chain_field(int8send((extract(epoch FROM occurred_at) * 1000000)::bigint))
                        || audit_chain_field(convert_to(action, 'UTF8'))
                        || audit_chain_field(convert_to(outcome, 'UTF8'))
                        || audit_chain_field(uuid_send(agent_id))
                        || audit_chain_field(convert_to(actor, 'UTF8'))
                        || audit_chain_field(convert_to(ip::text, 'UTF8'))
                        || audit_chain_field(convert_to(details::text, 'UTF8')));

                -- The events stored so far, chained in the order they occurred. The append-only guard is lifted for this
                -- one rewrite, inside the migration's transaction.
                ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only;
                DO $$
                DECLARE
                    event record;
                    last_seq bigint := 0;
                    last_hash bytea := decode(repeat('00', 32), 'hex');
                BEGIN
                    FOR event IN SELECT id, occurred_at, action, outcome, agent_id, actor, ip, details FROM audit_events ORDER BY occurred_at, id LOOP
                        last_seq := last_seq + 1;
                        UPDATE audit_events SET seq = last_seq, prev_hash = last_hash,
                            hash = audit_chain_hash(last_hash, last_seq, event.id, event.occurred_at, event.action, event.outcome,
                                event.agent_id, event.actor, event.ip, event.details)
                        WHERE id = event.id
                        RETURNING hash INTO last_hash;
                    END LOOP;
                    INSERT INTO audit_chain_head (seq, hash) VALUES (last_seq, last_hash);
                END;
                $$;
                ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only;
                """);

            migrationBuilder.AlterColumn<long>(
                name: "seq",
                table: "audit_events",
                type: "bigint",
                nullable: false,
                oldClrType: typeof(long),
                oldType: "bigint",
                oldNullable: true);

            migrationBuilder.AlterColumn<byte[]>(
                name: "prev_hash",
                table: "audit_events",
                type: "bytea",
                nullable: false,
                oldClrType: typeof(byte[]),
                oldType: "bytea",
                oldNullable: true);

            migrationBuilder.AlterColumn<byte[]>(
                name: "hash",
                table: "audit_events",
                type: "bytea",
                nullable: false,
                oldClrType: typeof(byte[]),
                oldType: "bytea",
                oldNullable: true);

            migrationBuilder.CreateIndex(
                name: "ux_audit_events_seq",
                table: "audit_events",
                column: "seq",
                unique: true);

            migrationBuilder.AddCheckConstraint(
                name: "ck_audit_events_hash_lengths",
                table: "audit_events",
                sql: "octet_length(prev_hash) = 32 AND octet_length(hash) = 32");

            migrationBuilder.Sql("""
                -- Chains each new event to the one before it, whoever inserts it and however (EF Core's INSERT, the
                -- AuthServer's COPY), overwriting whatever seq and hashes the writer sent. The head row's lock, taken at a
                -- transaction's first event and held until it ends, lets one writer at a time through, from any replica of
                -- any service: seq follows commit order, and a transaction that rolls back takes its seqs back with it, so
                -- there is never a gap. It must stay the last BEFORE INSERT trigger on audit_events (they fire in name
                -- order), so that it hashes the row as stored. A REPEATABLE READ or SERIALIZABLE writer that meets a newer
                -- head fails with a serialization error rather than fork the chain.
                CREATE FUNCTION audit_events_chain() RETURNS trigger LANGUAGE plpgsql AS $$
                DECLARE
                    head_seq bigint;
                    head_hash bytea;
                    last_seq bigint;
                    last_hash bytea;
                BEGIN
                    SELECT seq, hash INTO head_seq, head_hash FROM audit_chain_head FOR UPDATE;
                    IF NOT FOUND THEN
                        RAISE EXCEPTION 'audit_chain_head has no row: the audit chain cannot go on' USING ERRCODE = 'data_corrupted';
                    END IF;
                    -- Events this statement chained already come after the head, which moves once per statement (below).
                    SELECT seq, hash INTO last_seq, last_hash FROM audit_events WHERE seq > head_seq ORDER BY seq DESC LIMIT 1;
                    NEW.seq := coalesce(last_seq, head_seq) + 1;
                    NEW.prev_hash := coalesce(last_hash, head_hash);
                    NEW.hash := audit_chain_hash(NEW.prev_hash, NEW.seq, NEW.id, NEW.occurred_at, NEW.action, NEW.outcome,
                        NEW.agent_id, NEW.actor, NEW.ip, NEW.details);
                    RETURN NEW;
                END;
                $$;
                CREATE TRIGGER audit_events_chain
                    BEFORE INSERT ON audit_events
                    FOR EACH ROW EXECUTE FUNCTION audit_events_chain();

                -- Moves the head to the statement's last event: once per statement, not once per row, because a row
                -- updated thousands of times in one transaction (one COPY batch) makes every later read of it slower.
                CREATE FUNCTION audit_chain_advance() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    UPDATE audit_chain_head SET seq = newest.seq, hash = newest.hash
                    FROM (SELECT seq, hash FROM audit_events WHERE seq > (SELECT seq FROM audit_chain_head) ORDER BY seq DESC LIMIT 1) AS newest;
                    RETURN NULL;
                END;
                $$;
                CREATE TRIGGER audit_events_chain_advance
                    AFTER INSERT ON audit_events
                    FOR EACH STATEMENT EXECUTE FUNCTION audit_chain_advance();

                -- The head only moves forward, and is never removed.
                CREATE FUNCTION audit_chain_head_moves_forward() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF TG_OP = 'UPDATE' THEN
                        IF NEW.seq > OLD.seq THEN
                            RETURN NEW;
                        END IF;
                    END IF;
                    RAISE EXCEPTION 'audit_chain_head only moves forward: % is not allowed', TG_OP
                        USING ERRCODE = 'insufficient_privilege';
                END;
                $$;
                CREATE TRIGGER audit_chain_head_forward_only
                    BEFORE UPDATE OR DELETE ON audit_chain_head
                    FOR EACH ROW EXECUTE FUNCTION audit_chain_head_moves_forward();
                CREATE TRIGGER audit_chain_head_no_truncate
                    BEFORE TRUNCATE ON audit_chain_head
                    FOR EACH STATEMENT EXECUTE FUNCTION audit_chain_head_moves_forward();
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DROP TRIGGER IF EXISTS audit_events_chain_advance ON audit_events;
                DROP TRIGGER IF EXISTS audit_events_chain ON audit_events;
                DROP TABLE IF EXISTS audit_chain_head;
                DROP FUNCTION IF EXISTS audit_chain_head_moves_forward();
                DROP FUNCTION IF EXISTS audit_chain_advance();
                DROP FUNCTION IF EXISTS audit_events_chain();
                DROP FUNCTION IF EXISTS audit_chain_hash(bytea, bigint, uuid, timestamptz, text, text, uuid, text, inet, jsonb);
                DROP FUNCTION IF EXISTS audit_chain_field(bytea);
                """);

            migrationBuilder.DropIndex(
                name: "ux_audit_events_seq",
                table: "audit_events");

            migrationBuilder.DropCheckConstraint(
                name: "ck_audit_events_hash_lengths",
                table: "audit_events");

            migrationBuilder.DropColumn(
                name: "hash",
                table: "audit_events");

            migrationBuilder.DropColumn(
                name: "prev_hash",
                table: "audit_events");

            migrationBuilder.DropColumn(
                name: "seq",
                table: "audit_events");
        }
    }
}
