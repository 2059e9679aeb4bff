import Foundation
import GRDB
import Tracking

/// The schema of the SQLite backend, one migration per released change. Never edit a released
/// migration.
enum SQLiteSchema {
  /// Migrates the file, refusing one that a newer version of the service migrated.
  /// - Throws: ``TrackingError`` `.failedPrecondition` for a newer schema.
  static func migrate(_ pool: DatabasePool) throws {
    let migrator = Self.migrator
    let known = Set(migrator.migrations)
    let applied = try pool.read { try migrator.appliedIdentifiers($0) }
    let unknown = applied.subtracting(known)
    guard unknown.isEmpty else {
      throw TrackingError(
        code: .failedPrecondition,
        message:
          "the database was migrated by a newer version of the service (\(unknown.sorted().joined(separator: ", "))); upgrade the service or restore a backup"
      )
    }
    try migrator.migrate(pool)
  }

  static var migrator: DatabaseMigrator {
    var migrator = DatabaseMigrator()
    migrator.registerMigration(
      "v1: shipments, events, idempotency, serials, scans, devices, custody log, signing keys"
    ) {
      db in
      try db.execute(
        sql: """
          CREATE TABLE serial_counter (
            service_indicator TEXT PRIMARY KEY NOT NULL,
            last_serial INTEGER NOT NULL
          ) WITHOUT ROWID;

          CREATE TABLE shipment (
            id INTEGER PRIMARY KEY,
            tracking_number TEXT NOT NULL UNIQUE,
            service_type TEXT NOT NULL,
            state TEXT NOT NULL,
            procedure_code TEXT NOT NULL,
            agency_code TEXT NOT NULL,
            origin_post_office TEXT NOT NULL,
            applicant_name TEXT NOT NULL,
            applicant_citizen_id TEXT NOT NULL,
            applicant_phone TEXT NOT NULL,
            applicant_province TEXT NOT NULL,
            applicant_commune TEXT NOT NULL,
            applicant_address TEXT NOT NULL,
            pickup_kind TEXT NOT NULL CHECK (pickup_kind IN ('counter', 'home')),
            pickup_province TEXT,
            pickup_commune TEXT,
            pickup_address TEXT,
            pickup_window_start INTEGER,
            pickup_window_end INTEGER,
            code_nonce BLOB NOT NULL,
            code_salt BLOB NOT NULL,
            code_hash BLOB NOT NULL,
            custody_salt BLOB NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            version INTEGER NOT NULL
          );
          CREATE INDEX shipment_by_created ON shipment (created_at DESC, tracking_number DESC);
          CREATE INDEX shipment_by_state ON shipment (state, created_at DESC, tracking_number DESC);
          CREATE INDEX shipment_by_office
            ON shipment (origin_post_office, created_at DESC, tracking_number DESC);

          CREATE TABLE shipment_event (
            shipment_id INTEGER NOT NULL REFERENCES shipment (id),
            sequence INTEGER NOT NULL,
            kind TEXT NOT NULL,
            from_state TEXT,
            to_state TEXT NOT NULL,
            occurred_at INTEGER NOT NULL,
            recorded_at INTEGER NOT NULL,
            actor TEXT NOT NULL,
            location TEXT NOT NULL,
            note TEXT,
            payload TEXT,
            handover TEXT,
            PRIMARY KEY (shipment_id, sequence)
          ) WITHOUT ROWID;
          CREATE TRIGGER shipment_event_is_append_only_update BEFORE UPDATE ON shipment_event
          BEGIN SELECT RAISE(ABORT, 'shipment events are append-only'); END;
          CREATE TRIGGER shipment_event_is_append_only_delete BEFORE DELETE ON shipment_event
          BEGIN SELECT RAISE(ABORT, 'shipment events are append-only'); END;

          CREATE TABLE idempotency_record (
            request_id TEXT PRIMARY KEY NOT NULL,
            fingerprint BLOB NOT NULL,
            shipment_id INTEGER NOT NULL REFERENCES shipment (id),
            first_sequence INTEGER NOT NULL,
            version INTEGER NOT NULL,
            created_at INTEGER NOT NULL
          ) WITHOUT ROWID;

          CREATE TABLE scan_document (
            document_code TEXT PRIMARY KEY NOT NULL,
            shipment_id INTEGER NOT NULL REFERENCES shipment (id),
            sequence INTEGER NOT NULL,
            document_id TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            size INTEGER NOT NULL,
            content_type TEXT NOT NULL,
            FOREIGN KEY (shipment_id, sequence) REFERENCES shipment_event (shipment_id, sequence)
          ) WITHOUT ROWID;
          CREATE INDEX scan_document_by_sha256 ON scan_document (sha256);

          CREATE TABLE device_cursor (
            caller TEXT NOT NULL,
            device_id TEXT NOT NULL,
            processed_through INTEGER NOT NULL,
            PRIMARY KEY (caller, device_id)
          ) WITHOUT ROWID;

          CREATE TABLE device_event (
            caller TEXT NOT NULL,
            device_id TEXT NOT NULL,
            sequence INTEGER NOT NULL,
            fingerprint BLOB NOT NULL,
            payload BLOB NOT NULL,
            status TEXT,
            code TEXT,
            message TEXT,
            tracking_number TEXT,
            event_sequence INTEGER,
            received_at INTEGER,
            PRIMARY KEY (caller, device_id, sequence)
          ) WITHOUT ROWID;

          CREATE TABLE custody_leaf (
            leaf_index INTEGER PRIMARY KEY,
            data BLOB NOT NULL,
            shipment_id INTEGER NOT NULL REFERENCES shipment (id),
            event_sequence INTEGER NOT NULL,
            UNIQUE (shipment_id, event_sequence)
          );
          CREATE TABLE custody_node (
            level INTEGER NOT NULL,
            node_index INTEGER NOT NULL,
            hash BLOB NOT NULL,
            PRIMARY KEY (level, node_index)
          ) WITHOUT ROWID;
          CREATE TABLE custody_checkpoint (
            tree_size INTEGER PRIMARY KEY,
            root BLOB NOT NULL,
            note TEXT NOT NULL,
            signed_at INTEGER NOT NULL
          );
          CREATE TRIGGER custody_leaf_is_append_only_update BEFORE UPDATE ON custody_leaf
          BEGIN SELECT RAISE(ABORT, 'the custody log is append-only'); END;
          CREATE TRIGGER custody_leaf_is_append_only_delete BEFORE DELETE ON custody_leaf
          BEGIN SELECT RAISE(ABORT, 'the custody log is append-only'); END;
          CREATE TRIGGER custody_node_is_append_only_update BEFORE UPDATE ON custody_node
          BEGIN SELECT RAISE(ABORT, 'the custody log is append-only'); END;
          CREATE TRIGGER custody_node_is_append_only_delete BEFORE DELETE ON custody_node
          BEGIN SELECT RAISE(ABORT, 'the custody log is append-only'); END;
          CREATE TRIGGER custody_checkpoint_is_append_only_update BEFORE UPDATE ON custody_checkpoint
          BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
          CREATE TRIGGER custody_checkpoint_is_append_only_delete BEFORE DELETE ON custody_checkpoint
          BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;

          CREATE TABLE signing_key (
            key_id TEXT PRIMARY KEY NOT NULL,
            owner TEXT NOT NULL,
            public_key BLOB NOT NULL,
            registered_at INTEGER NOT NULL
          ) WITHOUT ROWID;
          CREATE INDEX signing_key_by_owner ON signing_key (owner);
          """
      )
    }
    migrator.registerMigration("v2: handoff outbox") { db in
      try db.execute(
        sql: """
          CREATE TABLE handoff (
            cursor INTEGER PRIMARY KEY AUTOINCREMENT,
            handoff_id TEXT NOT NULL UNIQUE,
            shipment_id INTEGER NOT NULL REFERENCES shipment (id),
            agency_code TEXT NOT NULL,
            mode TEXT NOT NULL,
            status TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at INTEGER NOT NULL,
            last_error TEXT,
            queued_at INTEGER NOT NULL,
            last_attempt_at INTEGER,
            closed_at INTEGER
          );
          CREATE INDEX handoff_due ON handoff (agency_code, status, mode, next_attempt_at);
          CREATE INDEX handoff_by_agency ON handoff (agency_code, status, cursor);
          """
      )
    }
    migrator.registerMigration("v3: service-level hops and alerts") { db in
      // A hop's columns; an alert keeps a snapshot of the hop in the same columns.
      let hopColumns = """
        hop TEXT NOT NULL, start_sequence INTEGER NOT NULL, start_kind TEXT NOT NULL,
        started_at INTEGER NOT NULL, working_days INTEGER NOT NULL, counted_from TEXT NOT NULL,
        due_date TEXT NOT NULL, due_at INTEGER NOT NULL, at_risk_at INTEGER NOT NULL,
        calendar_versions TEXT NOT NULL, provisional INTEGER NOT NULL,
        policy_version TEXT NOT NULL, route_class TEXT, appointment_slip INTEGER NOT NULL,
        end_sequence INTEGER, ended_at INTEGER, verdict TEXT, stopped_by TEXT,
        working_minutes INTEGER, agency_code TEXT NOT NULL, post_office TEXT NOT NULL,
        procedure_code TEXT NOT NULL,
        """
      try db.execute(
        sql: """
          CREATE TABLE sla_hop (
            shipment_id INTEGER NOT NULL REFERENCES shipment (id),
            \(hopColumns)
            at_risk_raised INTEGER NOT NULL DEFAULT 0,
            breach_raised INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (shipment_id, hop)
          );
          CREATE INDEX sla_hop_at_risk ON sla_hop (at_risk_at)
            WHERE end_sequence IS NULL AND at_risk_raised = 0;
          CREATE INDEX sla_hop_breach ON sla_hop (due_at)
            WHERE end_sequence IS NULL AND breach_raised = 0;
          CREATE INDEX sla_hop_running ON sla_hop (at_risk_at) WHERE end_sequence IS NULL;
          CREATE INDEX sla_hop_overdue ON sla_hop (due_at) WHERE end_sequence IS NULL;
          CREATE INDEX sla_hop_ended ON sla_hop (ended_at) WHERE ended_at IS NOT NULL;
          CREATE TABLE sla_alert (
            cursor INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL,
            raised_at INTEGER NOT NULL,
            shipment_id INTEGER NOT NULL REFERENCES shipment (id),
            \(hopColumns)
            UNIQUE (shipment_id, hop, start_sequence, kind)
          );
          CREATE TRIGGER sla_alert_is_append_only_update BEFORE UPDATE ON sla_alert
          BEGIN SELECT RAISE(ABORT, 'alerts are append-only'); END;
          CREATE TRIGGER sla_alert_is_append_only_delete BEFORE DELETE ON sla_alert
          BEGIN SELECT RAISE(ABORT, 'alerts are append-only'); END;
          """
      )
    }
    migrator.registerMigration(
      "v4: idempotency keys per caller, stored hop steps, checkpoint order, health probe"
    ) { db in
      try db.execute(
        sql: """
          CREATE TABLE idempotency_key (
            caller TEXT NOT NULL,
            request_id TEXT NOT NULL,
            fingerprint BLOB NOT NULL,
            shipment_id INTEGER NOT NULL REFERENCES shipment (id),
            first_sequence INTEGER NOT NULL,
            version INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (caller, request_id)
          ) WITHOUT ROWID;
          CREATE INDEX idempotency_key_by_age ON idempotency_key (created_at);
          INSERT INTO idempotency_key
            SELECT '', request_id, fingerprint, shipment_id, first_sequence, version, created_at
            FROM idempotency_record;
          DROP TABLE idempotency_record;

          ALTER TABLE sla_hop ADD COLUMN steps TEXT NOT NULL DEFAULT '';
          ALTER TABLE sla_alert ADD COLUMN steps TEXT NOT NULL DEFAULT '';
          CREATE INDEX sla_hop_by_shipment_start ON sla_hop (shipment_id, started_at);

          CREATE TABLE health_probe (id INTEGER PRIMARY KEY CHECK (id = 1), probed_at INTEGER NOT NULL);
          """
      )
    }
    migrator.registerMigration(
      "v5: hop rules, extensions, the agency's appointment and late supplement requests"
    ) { db in
      for table in ["sla_hop", "sla_alert"] {
        try db.execute(
          sql: """
            ALTER TABLE \(table) ADD COLUMN rule TEXT NOT NULL DEFAULT '';
            ALTER TABLE \(table) ADD COLUMN extended_to TEXT;
            ALTER TABLE \(table) ADD COLUMN appointment_date TEXT;
            ALTER TABLE \(table) ADD COLUMN late_supplement_requests INTEGER NOT NULL DEFAULT 0;
            """
        )
      }
    }
    migrator.registerMigration("v6: an agency dossier code belongs to one shipment") { db in
      try db.execute(
        sql: """
          CREATE TABLE dossier_code (
            code TEXT PRIMARY KEY,
            shipment_id INTEGER NOT NULL REFERENCES shipment(id)
          ) WITHOUT ROWID;
          """
      )
      // Codes given before the rule: the first shipment keeps a code given twice.
      let rows = try Row.fetchAll(
        db,
        sql: """
          SELECT shipment_id, payload FROM shipment_event
          WHERE kind = 'AGENCY_ACCEPTED' AND payload IS NOT NULL
          ORDER BY recorded_at, shipment_id, sequence
          """
      )
      for row in rows {
        let payload: String = row["payload"]
        guard
          case .decision(let decision) = try JSONDecoder().decode(
            EventPayload.self,
            from: Data(payload.utf8)
          ), let code = decision.dossierCode
        else { continue }
        try db.execute(
          sql: "INSERT OR IGNORE INTO dossier_code (code, shipment_id) VALUES (?, ?)",
          arguments: [code, row["shipment_id"] as Int64]
        )
      }
    }
    migrator.registerMigration("v7: organisations, foreigners and authorised persons apply") { db in
      try db.execute(sql: "ALTER TABLE shipment ADD COLUMN applicant_party TEXT")
    }
    migrator.registerMigration("v8: reads of unmasked personal data are audited") { db in
      try db.execute(
        sql: """
          CREATE TABLE access_audit (
            sequence INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            actor TEXT NOT NULL,
            tracking_number TEXT NOT NULL,
            read TEXT NOT NULL,
            purpose TEXT NOT NULL,
            document_code TEXT
          );
          CREATE INDEX access_audit_by_shipment ON access_audit (tracking_number, sequence);
          CREATE INDEX access_audit_by_actor ON access_audit (actor, sequence);
          CREATE TRIGGER access_audit_no_update BEFORE UPDATE ON access_audit
            BEGIN SELECT RAISE(ABORT, 'the access audit is append-only'); END;
          CREATE TRIGGER access_audit_no_delete BEFORE DELETE ON access_audit
            BEGIN SELECT RAISE(ABORT, 'the access audit is append-only'); END;
          """
      )
    }
    migrator.registerMigration("v9: staff find applicants through a blind index") { db in
      // Rows registered before wait in person_lookup_pending until the service indexes them
      // at start-up (the key is not the store's): SQLiteShipmentStore.indexApplicants.
      try db.execute(
        sql: """
          CREATE TABLE person_lookup (
            digest TEXT NOT NULL,
            shipment_id INTEGER NOT NULL REFERENCES shipment(id),
            PRIMARY KEY (digest, shipment_id)
          ) WITHOUT ROWID;
          CREATE INDEX person_lookup_by_shipment ON person_lookup (shipment_id);
          CREATE TABLE person_lookup_pending (
            shipment_id INTEGER PRIMARY KEY REFERENCES shipment(id)
          );
          INSERT INTO person_lookup_pending (shipment_id) SELECT id FROM shipment;
          """
      )
    }
    Self.registerLaterMigrations(in: &migrator)
    return migrator
  }
}
