/// What was read of a shipment's personal data, unmasked.
public enum PersonalDataRead: String, Hashable, Sendable, CaseIterable {
  /// Staff `GetShipment`: the applicant in full.
  case shipment = "SHIPMENT"
  /// A row of staff `ListShipments`: the applicant in full.
  case listing = "LISTING"
  /// A scan's bytes (staff or agency `DownloadScan`): papers that carry personal data.
  case scan = "SCAN"
  /// An agency's `GetDossier`: the dossier package with the applicant.
  case dossier = "DOSSIER"
  /// The oversight office's subject-access export (`ExportPersonalData`).
  case export = "EXPORT"
}

/// One read of unmasked personal data: who, when, which shipment, what and why. Records are
/// append-only (Decree 13/2023/NĐ-CP art. 27 asks a controller to log the processing of
/// personal data; the Law on Personal Data Protection 91/2025/QH15, in force since 1/1/2026,
/// keeps the duty; its text could not be checked here).
public struct AccessRecord: Hashable, Sendable {
  /// Its position in the audit, from 1 (assigned when stored).
  public var sequence: Int64
  /// When.
  public var at: Timestamp
  /// Who (a SPIFFE ID).
  public var actor: String
  /// Whose data: the shipment.
  public var trackingNumber: TrackingNumber
  /// What was read.
  public var read: PersonalDataRead
  /// Why, as the caller gave it (empty: not given).
  public var purpose: String
  /// The scan's document code, for a scan.
  public var documentCode: String?

  /// Creates a record.
  public init(
    sequence: Int64 = 0,
    at: Timestamp,
    actor: String,
    trackingNumber: TrackingNumber,
    read: PersonalDataRead,
    purpose: String,
    documentCode: String? = nil
  ) {
    self.sequence = sequence
    self.at = at
    self.actor = actor
    self.trackingNumber = trackingNumber
    self.read = read
    self.purpose = purpose
    self.documentCode = documentCode
  }
}

/// Which records to list, newest first.
public struct AccessQuery: Hashable, Sendable {
  /// Only reads of this shipment.
  public var trackingNumber: TrackingNumber?
  /// Only reads by this caller.
  public var actor: String?
  /// Only records older than this sequence number (the next page).
  public var before: Int64?
  /// At most this many (1–500).
  public var limit: Int

  /// Creates a query.
  public init(
    trackingNumber: TrackingNumber? = nil,
    actor: String? = nil,
    before: Int64? = nil,
    limit: Int = 50
  ) {
    self.trackingNumber = trackingNumber
    self.actor = actor
    self.before = before
    self.limit = limit
  }
}

/// The append-only access audit.
public protocol AccessAuditStore: Sendable {
  /// Stores records durably, in order, numbering them.
  /// - Throws: ``TrackingError`` `.storageFailure`.
  func append(_ records: [AccessRecord]) async throws
  /// Records matching the query, newest first.
  /// - Throws: ``TrackingError`` `.storageFailure`.
  func records(matching query: AccessQuery) async throws -> [AccessRecord]
}

/// Records reads of unmasked personal data before the data leaves the service: a read whose
/// record cannot be stored fails, so nothing is disclosed unaudited.
public struct AccessAuditor: Sendable {
  /// The purpose's longest accepted length, in characters.
  public static let maximumPurposeLength = 200

  private let store: any AccessAuditStore

  /// An auditor writing to `store`.
  public init(store: any AccessAuditStore) {
    self.store = store
  }

  /// Checks a caller's purpose: at most ``maximumPurposeLength`` characters, no control
  /// characters (it is shown to the oversight office as given).
  /// - Throws: ``InvalidValue`` otherwise.
  public static func purpose(_ text: String) throws -> String {
    guard text.count <= Self.maximumPurposeLength else {
      throw InvalidValue("is longer than \(Self.maximumPurposeLength) characters")
    }
    guard !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
    else {
      throw InvalidValue("contains control characters")
    }
    return text
  }

  /// Records that `actor` read `read` of each shipment, for `purpose`.
  /// - Throws: ``TrackingError`` `.storageFailure`: the read must not go ahead.
  public func record(
    _ read: PersonalDataRead,
    of numbers: [TrackingNumber],
    by actor: String,
    purpose: String,
    documentCode: String? = nil,
    now: Timestamp
  ) async throws {
    guard !numbers.isEmpty else { return }
    try await self.store.append(
      numbers.map {
        AccessRecord(
          at: now,
          actor: actor,
          trackingNumber: $0,
          read: read,
          purpose: purpose,
          documentCode: documentCode
        )
      }
    )
  }

  /// Records matching `query`, newest first.
  /// - Throws: ``TrackingError`` `.invalidArgument` for a limit outside 1–500;
  ///   `.storageFailure`.
  public func records(matching query: AccessQuery) async throws -> [AccessRecord] {
    guard (1 ... 500).contains(query.limit) else {
      throw TrackingError.invalidField("page_size", "must be 1–500")
    }
    return try await self.store.records(matching: query)
  }
}
