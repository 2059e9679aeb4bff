import GRDB

extension SQLiteShipmentStore {
  /// The schema, one migration per released change. Never edit a released migration.
  static var migrator: DatabaseMigrator {
    var migrator = DatabaseMigrator()
    migrator.registerMigration("v1: shipments, events, idempotency, serials") { db in
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
            version INTEGER NOT NULL,
            created_at INTEGER NOT NULL
          ) WITHOUT ROWID;
          """
      )
    }
    return migrator
  }
}
