import Foundation
import GRDB
import Tracking

extension SQLiteSchema {
  /// Migrations v10 onwards (ratings, sealing, rotation, queue tickets, reuse, report flags,
  /// notifications, covering indexes), registered after v1–v9 in ``migrator``.
  static func registerLaterMigrations(in migrator: inout DatabaseMigrator) {
    migrator.registerMigration("v10: citizens rate the service; low ratings open complaints") {
      db in
      try db.execute(
        sql: """
          CREATE TABLE service_rating (
            tracking_number TEXT PRIMARY KEY,
            rated_at INTEGER NOT NULL,
            on_time INTEGER NOT NULL,
            staff_attitude INTEGER NOT NULL,
            trips INTEGER NOT NULL,
            extra_costs_asked INTEGER NOT NULL,
            overall INTEGER NOT NULL,
            comment TEXT NOT NULL,
            complaint_requested INTEGER NOT NULL,
            complaint INTEGER NOT NULL
          ) WITHOUT ROWID;
          CREATE INDEX service_rating_complaints ON service_rating (complaint, rated_at);
          """
      )
    }
    migrator.registerMigration("v11: staff productivity reads events by kind and time") { db in
      try db.execute(
        sql: "CREATE INDEX shipment_event_by_kind ON shipment_event (kind, occurred_at)"
      )
    }
    migrator.registerMigration("v12: personal data sealed under data keys") { db in
      // Rows written before wait in seal_pending until the service seals them at start-up
      // (the key-encryption keys are not the store's): SQLiteStorage.sealPlaintextRows.
      try db.execute(
        sql: """
          CREATE TABLE data_key (
            id INTEGER PRIMARY KEY,
            kek_id TEXT NOT NULL,
            wrapped BLOB NOT NULL,
            created_at INTEGER NOT NULL
          );
          CREATE INDEX data_key_by_kek ON data_key (kek_id);
          ALTER TABLE shipment ADD COLUMN data_key_id INTEGER;
          ALTER TABLE shipment ADD COLUMN sealed BLOB;
          ALTER TABLE shipment ADD COLUMN erased_at INTEGER;
          ALTER TABLE shipment_event ADD COLUMN sealed BLOB;
          ALTER TABLE device_event ADD COLUMN data_key_id INTEGER;
          ALTER TABLE service_rating ADD COLUMN sealed BLOB;
          CREATE TABLE scan_key (
            sha256 TEXT PRIMARY KEY,
            data_key_id INTEGER NOT NULL
          ) WITHOUT ROWID;
          CREATE INDEX shipment_not_erased ON shipment (created_at) WHERE erased_at IS NULL;
          CREATE TABLE seal_pending (shipment_id INTEGER PRIMARY KEY REFERENCES shipment(id));
          INSERT INTO seal_pending (shipment_id) SELECT id FROM shipment;

          -- Events stay append-only; only their sealed column may be re-encrypted, and a
          -- plaintext note or payload written before may only be cleared (once sealed).
          DROP TRIGGER shipment_event_is_append_only_update;
          CREATE TRIGGER shipment_event_is_append_only_update
            BEFORE UPDATE OF shipment_id, sequence, kind, from_state, to_state, occurred_at,
              recorded_at, actor, location, handover ON shipment_event
            BEGIN SELECT RAISE(ABORT, 'shipment events are append-only'); END;
          CREATE TRIGGER shipment_event_plaintext_is_only_cleared
            BEFORE UPDATE OF note, payload ON shipment_event
            WHEN NEW.note IS NOT NULL OR NEW.payload IS NOT NULL
            BEGIN SELECT RAISE(ABORT, 'shipment events are append-only'); END;
          """
      )
    }
    migrator.registerMigration("v13: data keys are rotated") { db in
      // The rotation in progress: data keys created before `created_before` are replaced.
      try db.execute(
        sql: """
          CREATE TABLE data_key_rotation (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            created_before INTEGER NOT NULL
          );
          CREATE INDEX data_key_by_age ON data_key (created_at);
          CREATE INDEX shipment_by_data_key ON shipment (data_key_id);
          CREATE INDEX scan_key_by_data_key ON scan_key (data_key_id);
          CREATE INDEX device_event_by_data_key ON device_event (data_key_id)
            WHERE data_key_id IS NOT NULL;
          """
      )
    }
    migrator.registerMigration("v14: counter queue tickets") { db in
      // One row per ticket a counter issued and called (no personal data: a number and times).
      try db.execute(
        sql: """
          CREATE TABLE queue_ticket (
            post_office TEXT NOT NULL,
            number TEXT NOT NULL,
            issued_at INTEGER NOT NULL,
            called_at INTEGER NOT NULL CHECK (called_at >= issued_at),
            wait_seconds INTEGER NOT NULL,
            issued_hour INTEGER NOT NULL CHECK (issued_hour BETWEEN 0 AND 23),
            tracking_number TEXT,
            recorded_by TEXT NOT NULL,
            request_id TEXT NOT NULL,
            fingerprint BLOB NOT NULL,
            PRIMARY KEY (post_office, number, issued_at),
            UNIQUE (recorded_by, request_id)
          );
          CREATE INDEX queue_ticket_by_issue ON queue_ticket (issued_at);
          """
      )
    }
    migrator.registerMigration("v15: dossier items reuse digitized papers by code") { db in
      // The code of the earlier paper an item reuses instead of a new scan (NULL: scanned).
      try db.execute(
        sql: """
          ALTER TABLE scan_document ADD COLUMN reused_from TEXT;
          CREATE INDEX scan_document_by_shipment ON scan_document (shipment_id);
          """
      )
    }
    migrator.registerMigration("v16: each shipment keeps its report flags") { db in
      // The oversight reports read one row per shipment: what they count is kept on it by
      // triggers, in the transaction that writes the event, handoff or scan (so never out of
      // step), instead of a lookup per shipment into three tables (10 s for a year of
      // 1,000,000 shipments in the report benchmark).
      try db.execute(
        sql: """
          CREATE INDEX handoff_by_shipment ON handoff (shipment_id);
          ALTER TABLE shipment ADD COLUMN report_digitized INTEGER NOT NULL DEFAULT 0;
          ALTER TABLE shipment ADD COLUMN report_handed_over INTEGER NOT NULL DEFAULT 0;
          ALTER TABLE shipment ADD COLUMN report_electronic INTEGER NOT NULL DEFAULT 0;
          ALTER TABLE shipment ADD COLUMN report_contacts INTEGER NOT NULL DEFAULT 0;
          ALTER TABLE shipment ADD COLUMN report_papers INTEGER NOT NULL DEFAULT 0;
          ALTER TABLE shipment ADD COLUMN report_reused INTEGER NOT NULL DEFAULT 0;
          CREATE TRIGGER shipment_report_digitized AFTER INSERT ON shipment_event
          WHEN NEW.kind = 'DIGITIZED'
          BEGIN UPDATE shipment SET report_digitized = 1 WHERE id = NEW.shipment_id; END;
          CREATE TRIGGER shipment_report_handed_over AFTER INSERT ON shipment_event
          WHEN NEW.kind = 'HANDED_TO_AGENCY'
          BEGIN UPDATE shipment SET report_handed_over = 1 WHERE id = NEW.shipment_id; END;
          CREATE TRIGGER shipment_report_contacts AFTER INSERT ON shipment_event
          WHEN NEW.kind IN ('GUIDED_INCOMPLETE', 'SUPPLEMENT_REQUESTED')
          BEGIN
            UPDATE shipment SET report_contacts = report_contacts + 1 WHERE id = NEW.shipment_id;
          END;
          CREATE TRIGGER shipment_report_electronic AFTER INSERT ON handoff
          BEGIN UPDATE shipment SET report_electronic = 1 WHERE id = NEW.shipment_id; END;
          CREATE TRIGGER shipment_report_papers AFTER INSERT ON scan_document
          BEGIN
            UPDATE shipment SET
              report_papers = (SELECT COUNT(DISTINCT document_id) FROM scan_document
                               WHERE shipment_id = NEW.shipment_id),
              report_reused = (SELECT COUNT(DISTINCT document_id) FROM scan_document
                               WHERE shipment_id = NEW.shipment_id AND reused_from IS NOT NULL)
            WHERE id = NEW.shipment_id;
          END;
          UPDATE shipment SET
            report_digitized = EXISTS (SELECT 1 FROM shipment_event e
                                       WHERE e.shipment_id = shipment.id AND +e.kind = 'DIGITIZED'),
            report_handed_over = EXISTS (SELECT 1 FROM shipment_event e
                                         WHERE e.shipment_id = shipment.id
                                           AND +e.kind = 'HANDED_TO_AGENCY'),
            report_contacts = (SELECT COUNT(*) FROM shipment_event e
                               WHERE e.shipment_id = shipment.id
                                 AND +e.kind IN ('GUIDED_INCOMPLETE', 'SUPPLEMENT_REQUESTED')),
            report_electronic = EXISTS (SELECT 1 FROM handoff h WHERE h.shipment_id = shipment.id),
            report_papers = (SELECT COUNT(DISTINCT document_id) FROM scan_document d
                             WHERE d.shipment_id = shipment.id),
            report_reused = (SELECT COUNT(DISTINCT document_id) FROM scan_document d
                             WHERE d.shipment_id = shipment.id AND d.reused_from IS NOT NULL);
          """
      )
    }
    migrator.registerMigration("v17: notification consent and outbox") { db in
      // The outbox holds no personal data: the dispatcher makes each message's text from the
      // shipment's stored event when it sends it. Consents are kept, never changed.
      try db.execute(
        sql: """
          ALTER TABLE shipment ADD COLUMN notify_channel TEXT NOT NULL DEFAULT 'NONE';
          CREATE TABLE notification_consent (
            id INTEGER PRIMARY KEY,
            shipment_id INTEGER NOT NULL REFERENCES shipment (id),
            channel TEXT NOT NULL CHECK (channel IN ('NONE', 'SMS', 'ZALO')),
            changed_at INTEGER NOT NULL,
            source TEXT NOT NULL,
            actor TEXT
          );
          CREATE INDEX notification_consent_by_shipment ON notification_consent (shipment_id, id);
          CREATE TRIGGER notification_consent_append_only_update
          BEFORE UPDATE ON notification_consent
          BEGIN SELECT RAISE(ABORT, 'notification consents are append-only'); END;
          CREATE TRIGGER notification_consent_append_only_delete
          BEFORE DELETE ON notification_consent
          BEGIN SELECT RAISE(ABORT, 'notification consents are append-only'); END;
          CREATE TABLE notification (
            seq INTEGER PRIMARY KEY,
            message_id TEXT NOT NULL UNIQUE,
            shipment_id INTEGER NOT NULL REFERENCES shipment (id),
            event_sequence INTEGER NOT NULL,
            kind TEXT NOT NULL,
            channel TEXT NOT NULL CHECK (channel IN ('SMS', 'ZALO', 'WEBHOOK')),
            subscription TEXT,
            status TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at INTEGER NOT NULL,
            last_error TEXT,
            created_at INTEGER NOT NULL,
            last_attempt_at INTEGER,
            sent_at INTEGER
          );
          CREATE INDEX notification_due ON notification (next_attempt_at) WHERE status = 'PENDING';
          CREATE INDEX notification_by_shipment ON notification (shipment_id);
          """
      )
    }
    migrator.registerMigration("v18: a year's reports read covering indexes only") { db in
      // A year of 1,000,000 shipments took 2.3 s (indicators) and 18 s (scores) in the report
      // benchmark: the shipment rows are wide (sealed personal data), and each scored dossier
      // looked its hops and its rating up. What the reports need is now on the shipment row,
      // kept by triggers in the writing transaction (the rating, and per dossier the worst
      // verdict of its ended legs and the earliest due time of a running one), and covering
      // indexes hold it, so the reports never read a table row. The scores' indexes lead with
      // the group (agency or post office), so their GROUP BY streams without a sort.
      // Per shipment: the worst verdict of its ended legs (2 early, 1 on time, 0 late), and
      // the earliest due time of a running one.
      func worstLeg(_ id: String) -> String {
        """
        (SELECT MIN(CASE h.verdict WHEN 'EARLY' THEN 2 WHEN 'ON_TIME' THEN 1 WHEN 'LATE' THEN 0 END)
         FROM sla_hop h WHERE h.shipment_id = \(id) AND h.verdict IS NOT NULL)
        """
      }
      func runningDue(_ id: String) -> String {
        "(SELECT MIN(h.due_at) FROM sla_hop h WHERE h.shipment_id = \(id) AND h.end_sequence IS NULL)"
      }
      func refresh(_ id: String) -> String {
        """
        UPDATE shipment SET report_units_ended = \(worstLeg(id)),
          report_open_due = \(runningDue(id)) WHERE id = \(id);
        """
      }
      try db.execute(
        sql: """
          ALTER TABLE shipment ADD COLUMN report_rated INTEGER NOT NULL DEFAULT 0;
          ALTER TABLE shipment ADD COLUMN report_overall INTEGER NOT NULL DEFAULT 0;
          ALTER TABLE shipment ADD COLUMN report_complaint INTEGER NOT NULL DEFAULT 0;
          ALTER TABLE shipment ADD COLUMN report_units_ended INTEGER;
          ALTER TABLE shipment ADD COLUMN report_open_due INTEGER;
          CREATE TRIGGER shipment_report_rating AFTER INSERT ON service_rating
          BEGIN
            UPDATE shipment SET report_rated = 1, report_overall = NEW.overall,
              report_complaint = NEW.complaint
            WHERE tracking_number = NEW.tracking_number;
          END;
          CREATE TRIGGER shipment_report_hop_insert AFTER INSERT ON sla_hop
          BEGIN
            \(refresh("NEW.shipment_id"))
          END;
          CREATE TRIGGER shipment_report_hop_update
          AFTER UPDATE OF verdict, end_sequence, due_at ON sla_hop
          BEGIN
            \(refresh("NEW.shipment_id"))
          END;
          CREATE TRIGGER shipment_report_hop_delete AFTER DELETE ON sla_hop
          BEGIN
            \(refresh("OLD.shipment_id"))
          END;
          UPDATE shipment SET
            report_rated = EXISTS (SELECT 1 FROM service_rating r
                                   WHERE r.tracking_number = shipment.tracking_number),
            report_overall = COALESCE((SELECT r.overall FROM service_rating r
                                       WHERE r.tracking_number = shipment.tracking_number), 0),
            report_complaint = COALESCE((SELECT r.complaint FROM service_rating r
                                         WHERE r.tracking_number = shipment.tracking_number), 0),
            report_units_ended = \(worstLeg("shipment.id")),
            report_open_due = \(runningDue("shipment.id"));
          CREATE INDEX shipment_report_by_created ON shipment (created_at, agency_code,
            origin_post_office, service_type, report_digitized, report_electronic,
            report_handed_over, report_papers, report_reused, report_rated, report_overall,
            report_complaint);
          CREATE INDEX shipment_report_scores ON shipment (id, report_units_ended,
            report_open_due, report_contacts, report_complaint);
          CREATE INDEX shipment_shares_by_agency ON shipment (agency_code, created_at,
            service_type, report_digitized, report_rated, report_overall);
          CREATE INDEX shipment_shares_by_office ON shipment (origin_post_office, created_at,
            service_type, report_digitized, report_rated, report_overall);
          CREATE INDEX sla_hop_report_by_agency ON sla_hop (hop, agency_code, ended_at, verdict,
            shipment_id) WHERE ended_at IS NOT NULL;
          CREATE INDEX sla_hop_report_by_office ON sla_hop (hop, post_office, ended_at, verdict,
            shipment_id) WHERE ended_at IS NOT NULL;
          """
      )
    }
  }
}
