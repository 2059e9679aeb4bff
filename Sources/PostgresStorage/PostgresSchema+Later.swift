extension PostgresSchema {
  /// A hop's columns, in `sla_hop` and (as the snapshot an alert keeps) in `sla_alert`.
  static let hopColumns = """
    hop text NOT NULL, start_sequence integer NOT NULL, start_kind text NOT NULL,
    started_at bigint NOT NULL, working_days integer NOT NULL, counted_from text NOT NULL,
    due_date text NOT NULL, due_at bigint NOT NULL, at_risk_at bigint NOT NULL,
    calendar_versions text NOT NULL, provisional boolean NOT NULL,
    policy_version text NOT NULL, route_class text, appointment_slip boolean NOT NULL,
    end_sequence integer, ended_at bigint, verdict text, stopped_by text,
    working_minutes integer, agency_code text NOT NULL, post_office text NOT NULL,
    procedure_code text NOT NULL, steps text NOT NULL, rule text NOT NULL,
    extended_to text, appointment_date text, late_supplement_requests integer NOT NULL,
    """

  /// Migrations v7 onwards (service levels, notifications, ratings, offline sync, scans),
  /// applied after v1–v6 in ``migrations``.
  static let laterMigrations: [Migration] = [
    Migration(
      version: 7,
      purpose: "service-level hops and their alerts, raised once whichever replica raises them",
      statements: [
        """
        CREATE TABLE sla_hop (
          shipment_id bigint NOT NULL REFERENCES shipment (id),
          \(Self.hopColumns)
          at_risk_raised boolean NOT NULL DEFAULT false,
          breach_raised boolean NOT NULL DEFAULT false,
          PRIMARY KEY (shipment_id, hop)
        )
        """,
        """
        CREATE INDEX sla_hop_at_risk ON sla_hop (at_risk_at)
          WHERE end_sequence IS NULL AND NOT at_risk_raised
        """,
        """
        CREATE INDEX sla_hop_breach ON sla_hop (due_at)
          WHERE end_sequence IS NULL AND NOT breach_raised
        """,
        "CREATE INDEX sla_hop_running ON sla_hop (at_risk_at) WHERE end_sequence IS NULL",
        "CREATE INDEX sla_hop_overdue ON sla_hop (due_at) WHERE end_sequence IS NULL",
        "CREATE INDEX sla_hop_ended ON sla_hop (ended_at) WHERE ended_at IS NOT NULL",
        """
        CREATE TABLE sla_alert (
          cursor bigserial PRIMARY KEY,
          kind text NOT NULL,
          raised_at bigint NOT NULL,
          shipment_id bigint NOT NULL REFERENCES shipment (id),
          \(Self.hopColumns)
          UNIQUE (shipment_id, hop, start_sequence, kind)
        )
        """,
        """
        CREATE TRIGGER sla_alert_append_only BEFORE UPDATE OR DELETE ON sla_alert
          FOR EACH ROW EXECUTE FUNCTION refuse_change()
        """,
      ]
    ),
    Migration(
      version: 8,
      purpose:
        "citizens' notification choices (append-only) and the notification outbox, claimed by one replica at a time",
      statements: [
        """
        CREATE TABLE notification_consent (
          id bigserial PRIMARY KEY,
          shipment_id bigint NOT NULL REFERENCES shipment (id),
          channel text NOT NULL CHECK (channel IN ('NONE', 'SMS', 'ZALO')),
          changed_at bigint NOT NULL,
          source text NOT NULL,
          actor text
        )
        """,
        "CREATE INDEX notification_consent_by_shipment ON notification_consent (shipment_id, id)",
        """
        CREATE TRIGGER notification_consent_append_only BEFORE UPDATE OR DELETE
          ON notification_consent FOR EACH ROW EXECUTE FUNCTION refuse_change()
        """,
        """
        CREATE TABLE notification (
          seq bigserial PRIMARY KEY,
          message_id text NOT NULL UNIQUE,
          shipment_id bigint NOT NULL REFERENCES shipment (id),
          event_sequence integer NOT NULL,
          kind text NOT NULL,
          channel text NOT NULL,
          subscription text,
          status text NOT NULL CHECK (status IN ('PENDING', 'SENT', 'DEAD', 'CANCELLED')),
          attempts integer NOT NULL DEFAULT 0,
          last_error text,
          created_at bigint NOT NULL,
          next_attempt_at bigint NOT NULL,
          last_attempt_at bigint,
          sent_at bigint,
          claimed_by text,
          claimed_until bigint
        )
        """,
        "CREATE INDEX notification_due ON notification (next_attempt_at) WHERE status = 'PENDING'",
        "CREATE INDEX notification_by_shipment ON notification (shipment_id)",
      ]
    ),
    Migration(
      version: 9,
      purpose:
        "citizens' ratings, handhelds' offline sync, scanned documents in chunks every replica reads",
      statements: [
        """
        CREATE TABLE service_rating (
          tracking_number text PRIMARY KEY,
          rated_at bigint NOT NULL,
          on_time boolean NOT NULL,
          staff_attitude integer NOT NULL,
          trips integer NOT NULL,
          extra_costs_asked boolean NOT NULL,
          overall integer NOT NULL,
          complaint_requested boolean NOT NULL,
          complaint boolean NOT NULL,
          sealed bytea
        )
        """,
        "CREATE INDEX service_rating_complaints ON service_rating (complaint, rated_at)",
        "CREATE INDEX shipment_event_by_kind ON shipment_event (kind, occurred_at)",
        """
        CREATE TABLE device_cursor (
          caller text NOT NULL,
          device_id text NOT NULL,
          processed_through integer NOT NULL,
          PRIMARY KEY (caller, device_id)
        )
        """,
        """
        CREATE TABLE device_event (
          caller text NOT NULL,
          device_id text NOT NULL,
          sequence integer NOT NULL,
          fingerprint bytea NOT NULL,
          payload bytea NOT NULL,
          data_key_id bigint,
          status text,
          code text,
          message text,
          tracking_number text,
          event_sequence integer,
          received_at bigint,
          PRIMARY KEY (caller, device_id, sequence)
        )
        """,
        "CREATE INDEX device_event_by_receipt ON device_event (received_at) WHERE data_key_id IS NOT NULL",
        """
        CREATE TABLE blob (
          sha256 text PRIMARY KEY CHECK (length(sha256) = 64),
          data_key_id bigint NOT NULL,
          size bigint NOT NULL,
          chunks integer NOT NULL,
          stored_at bigint NOT NULL
        )
        """,
        """
        CREATE TABLE blob_chunk (
          sha256 text NOT NULL REFERENCES blob (sha256) ON DELETE CASCADE,
          chunk integer NOT NULL CHECK (chunk >= 0),
          sealed bytea NOT NULL,
          PRIMARY KEY (sha256, chunk)
        )
        """,
        "CREATE INDEX handoff_by_shipment ON handoff (shipment_id)",
        "CREATE INDEX scan_document_by_shipment ON scan_document (shipment_id)",
        "CREATE INDEX sla_hop_by_ended_hop ON sla_hop (hop, ended_at) WHERE ended_at IS NOT NULL",
      ]
    ),
  ]
}
