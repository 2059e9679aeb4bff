import Synchronization

/// How a dossier reaches its agency's system.
public enum HandoffMode: String, Hashable, Sendable, CaseIterable {
  /// The gateway calls the agency's `AgencyIntake` endpoint.
  case push = "PUSH"
  /// The agency streams handoffs from the gateway.
  case pull = "PULL"
}

/// A handoff as queued with the `DIGITIZED` event.
public struct HandoffTicket: Hashable, Sendable {
  /// The agency's idempotency key for the dossier.
  public var handoffID: String
  /// The competent agency.
  public var agency: AgencyCode
  /// How it is delivered.
  public var mode: HandoffMode

  /// Creates a ticket.
  public init(handoffID: String, agency: AgencyCode, mode: HandoffMode) {
    self.handoffID = handoffID
    self.agency = agency
    self.mode = mode
  }

  /// The handoff id of a shipment's first electronic handoff: the tracking number and `-H1`.
  public static func firstID(for number: TrackingNumber) -> String { "\(number.rawValue)-H1" }
}

/// The agency's decision on a handoff.
public struct AgencyDecision: Hashable, Sendable {
  /// Accepted (with the agency's references) or rejected (with a reason).
  public enum Outcome: Hashable, Sendable {
    /// Registered by the agency.
    case accepted(AgencyAcceptance)
    /// Refused by the agency.
    case rejected(reason: String)
  }

  /// The handoff decided on.
  public var handoffID: String
  /// How the decision arrived.
  public var channel: HandoffMode
  /// The decision.
  public var outcome: Outcome

  /// Creates a decision.
  public init(handoffID: String, channel: HandoffMode, outcome: Outcome) {
    self.handoffID = handoffID
    self.channel = channel
    self.outcome = outcome
  }

  /// Whether two decisions say the same thing (whatever channel they came by).
  public func agrees(with other: AgencyDecision) -> Bool {
    self.handoffID == other.handoffID && self.outcome == other.outcome
  }
}

/// What the agency registered.
public struct AgencyAcceptance: Hashable, Sendable {
  /// The agency's dossier code.
  public var dossierCode: DossierCode
  /// When the agency registered it: the legal filing time (QĐ 45 art. 7.4).
  public var receivedAt: Timestamp
  /// The result appointment date (giấy hẹn), if given.
  public var appointmentDate: CivilDate?

  /// Creates an acceptance.
  public init(dossierCode: DossierCode, receivedAt: Timestamp, appointmentDate: CivilDate?) {
    self.dossierCode = dossierCode
    self.receivedAt = receivedAt
    self.appointmentDate = appointmentDate
  }
}

/// One paper the agency asks for, and why.
public struct SupplementItem: Hashable, Sendable {
  /// The document, as the agency words it.
  public var document: String
  /// Why it is needed (empty: the request's reason).
  public var reason: String

  /// Creates an item.
  public init(document: String, reason: String) {
    self.document = document
    self.reason = reason
  }
}

/// The agency's request, in writing, for what the dossier lacks (NĐ 61 art. 19.4: once, with the
/// full list, within the window).
public struct SupplementRequest: Hashable, Sendable {
  /// Everything missing.
  public var items: [SupplementItem]
  /// Why, for the request as a whole.
  public var reason: String

  /// Creates a request.
  public init(items: [SupplementItem], reason: String) {
    self.items = items
    self.reason = reason
  }

  /// A request whose items share its reason.
  public init(missingItems: [String], reason: String) {
    self.init(items: missingItems.map { SupplementItem(document: $0, reason: "") }, reason: reason)
  }

  /// The documents asked for.
  public var missingItems: [String] { self.items.map(\.document) }
}

/// The agency's extension of its processing (Phiếu đề nghị gia hạn, NĐ 61 art. 19.9): a new due
/// date, the reason and the apology to the citizen.
public struct ProcessingExtension: Hashable, Sendable {
  /// The due date before the extension.
  public var previousDueDate: CivilDate
  /// The new due date (the new appointment date).
  public var newDueDate: CivilDate
  /// Why.
  public var reason: String
  /// The apology to the citizen.
  public var apology: String

  /// Creates an extension.
  public init(previousDueDate: CivilDate, newDueDate: CivilDate, reason: String, apology: String) {
    self.previousDueDate = previousDueDate
    self.newDueDate = newDueDate
    self.reason = reason
    self.apology = apology
  }
}

/// The agency's notice that the result is ready.
public struct ResultNotice: Hashable, Sendable {
  /// The result documents.
  public var documents: [String]
  /// Originals the citizen gets back.
  public var originalsToReturn: [String]
  /// Papers the courier takes back from the citizen at delivery.
  public var papersToRecall: [String]
  /// The fee to collect on delivery, VND.
  public var feeToCollectVND: Int64
  /// Where the courier collects it.
  public var collectAt: String

  /// Creates a notice.
  public init(
    documents: [String],
    originalsToReturn: [String],
    papersToRecall: [String],
    feeToCollectVND: Int64,
    collectAt: String
  ) {
    self.documents = documents
    self.originalsToReturn = originalsToReturn
    self.papersToRecall = papersToRecall
    self.feeToCollectVND = feeToCollectVND
    self.collectAt = collectAt
  }
}

/// An agency's dossier code, `DDD.DD.DD.LDD-YYMMDD-NNNN` (NĐ 61 art. 26): the receiving agency's
/// code, the date of receipt and the day's sequence number.
public struct DossierCode: Hashable, Sendable, CustomStringConvertible {
  /// The code as written.
  public let rawValue: String
  /// The agency part.
  public let agency: AgencyCode
  /// The date part.
  public let receivedOn: CivilDate

  /// Validates a code.
  /// - Throws: ``InvalidValue`` naming what is wrong.
  public init(validating string: String) throws {
    let parts = string.split(separator: "-", omittingEmptySubsequences: false)
    guard parts.count == 3 else {
      throw InvalidValue("must look like 000.00.00.H55-250312-0042")
    }
    guard let agency = try? AgencyCode(validating: String(parts[0])) else {
      throw InvalidValue("must start with the agency code (DDD.DD.DD.LDD)")
    }
    let date = Array(parts[1].utf8)
    let sequence = Array(parts[2].utf8)
    let isDigit: (UInt8) -> Bool = { (UInt8(ascii: "0") ... UInt8(ascii: "9")).contains($0) }
    guard date.count == 6, date.allSatisfy(isDigit) else {
      throw InvalidValue("must have a 6-digit YYMMDD date after the agency code")
    }
    guard sequence.count == 4, sequence.allSatisfy(isDigit), parts[2] != "0000" else {
      throw InvalidValue("must end with a 4-digit sequence number from 0001")
    }
    // Checked to be ASCII digits just above.
    let digits = date.map { Int($0 - UInt8(ascii: "0")) }
    let year = 2000 + digits[0] * 10 + digits[1]
    let month = digits[2] * 10 + digits[3]
    let day = digits[4] * 10 + digits[5]
    let civil = CivilDate(year: year, month: month, day: day)
    guard (1 ... 12).contains(month), CivilDate(daysSinceEpoch: civil.daysSinceEpoch) == civil
    else {
      throw InvalidValue("has no such date \(parts[1])")
    }
    self.rawValue = string
    self.agency = agency
    self.receivedOn = civil
  }

  public var description: String { self.rawValue }
}

/// Where a queued handoff stands.
public enum HandoffStatus: String, Hashable, Sendable, CaseIterable {
  /// Waiting for delivery (push) or acknowledgement (pull).
  case pending = "PENDING"
  /// The agency accepted it.
  case accepted = "ACCEPTED"
  /// The agency rejected it.
  case rejected = "REJECTED"
  /// Attempts exhausted; waits for an operator.
  case dead = "DEAD"
}

/// One row of the handoff outbox.
public struct Handoff: Hashable, Sendable {
  /// The position in the outbox (the pull stream's cursor).
  public var cursor: Int64
  /// The agency's idempotency key.
  public var id: String
  /// The shipment.
  public var trackingNumber: TrackingNumber
  /// The agency.
  public var agency: AgencyCode
  /// How it is delivered.
  public var mode: HandoffMode
  /// Where it stands.
  public var status: HandoffStatus
  /// Failed delivery attempts since it was queued or last retried by an operator.
  public var attempts: Int
  /// When the dispatcher may try next.
  public var nextAttemptAt: Timestamp
  /// Why the last attempt failed.
  public var lastError: String?
  /// When it was queued.
  public var queuedAt: Timestamp
  /// When it was last tried.
  public var lastAttemptAt: Timestamp?

  /// Creates a row.
  public init(
    cursor: Int64,
    id: String,
    trackingNumber: TrackingNumber,
    agency: AgencyCode,
    mode: HandoffMode,
    status: HandoffStatus,
    attempts: Int,
    nextAttemptAt: Timestamp,
    lastError: String?,
    queuedAt: Timestamp,
    lastAttemptAt: Timestamp?
  ) {
    self.cursor = cursor
    self.id = id
    self.trackingNumber = trackingNumber
    self.agency = agency
    self.mode = mode
    self.status = status
    self.attempts = attempts
    self.nextAttemptAt = nextAttemptAt
    self.lastError = lastError
    self.queuedAt = queuedAt
    self.lastAttemptAt = lastAttemptAt
  }
}

/// One agency's channel as the outbox shows it.
public struct ChannelSummary: Hashable, Sendable {
  /// The agency.
  public var agency: AgencyCode
  /// Handoffs pending.
  public var queueDepth: Int
  /// Pending handoffs that failed at least once.
  public var retrying: Int
  /// Dead letters.
  public var deadLetters: Int
  /// The last error of any pending or dead handoff, newest attempt first.
  public var lastError: String?
  /// The newest attempt.
  public var lastAttemptAt: Timestamp?
  /// The newest acceptance or rejection.
  public var lastSuccessAt: Timestamp?
  /// When the oldest pending handoff was queued.
  public var oldestPendingQueuedAt: Timestamp?

  /// Creates a summary.
  public init(
    agency: AgencyCode,
    queueDepth: Int = 0,
    retrying: Int = 0,
    deadLetters: Int = 0,
    lastError: String? = nil,
    lastAttemptAt: Timestamp? = nil,
    lastSuccessAt: Timestamp? = nil,
    oldestPendingQueuedAt: Timestamp? = nil
  ) {
    self.agency = agency
    self.queueDepth = queueDepth
    self.retrying = retrying
    self.deadLetters = deadLetters
    self.lastError = lastError
    self.lastAttemptAt = lastAttemptAt
    self.lastSuccessAt = lastSuccessAt
    self.oldestPendingQueuedAt = oldestPendingQueuedAt
  }
}

/// Durable storage of the handoff outbox. Rows are queued and closed by ``ShipmentWrite``s,
/// together with the events that cause them; these methods cover the rest. Every write
/// publishes ``StoreTopic/outbox``.
public protocol HandoffStore: Sendable {
  /// A handoff by id, or `nil`.
  func handoff(id: String) async throws -> Handoff?
  /// An agency's pending push handoffs due at `now`, earliest due first.
  func dueHandoffs(agency: AgencyCode, now: Timestamp, limit: Int) async throws -> [Handoff]
  /// When the earliest pending push handoff of an agency is due, if any (the dispatcher sleeps
  /// until then unless the outbox changes first).
  func nextAttemptTime(agency: AgencyCode) async throws -> Timestamp?
  /// Pending handoffs of an agency after a cursor, oldest first.
  func pendingHandoffs(
    agency: AgencyCode,
    after cursor: Int64,
    limit: Int
  ) async throws
    -> [Handoff]
  /// Handoffs, newest first, optionally filtered.
  func handoffs(agency: AgencyCode?, status: HandoffStatus?, limit: Int) async throws -> [Handoff]
  /// Records a failed attempt: the next attempt time and error, or dead-lettering.
  func recordFailedAttempt(
    id: String,
    at: Timestamp,
    error: String,
    nextAttemptAt: Timestamp,
    deadLetter: Bool
  ) async throws
  /// Puts a dead letter back in the queue with its attempts reset; returns it, or `nil` when
  /// there is no such handoff. Throws `.failedPrecondition` unless it is dead.
  func retryDeadLetter(id: String, now: Timestamp) async throws -> Handoff?
  /// Every agency that has handoffs, summarized.
  func channelSummaries() async throws -> [ChannelSummary]
}

/// Which agencies receive dossiers electronically, and how. An agency without a route gets its
/// dossiers on paper only.
public struct HandoffRoutes: Hashable, Sendable {
  /// The mode per agency.
  public var modes: [AgencyCode: HandoffMode]

  /// Creates routes.
  public init(_ modes: [AgencyCode: HandoffMode] = [:]) { self.modes = modes }

  /// The handoff to queue for a shipment that becomes digitized, if its agency has a route.
  public func ticket(for shipment: Shipment) -> HandoffTicket? {
    guard let mode = self.modes[shipment.destinationAgency] else { return nil }
    return HandoffTicket(
      handoffID: HandoffTicket.firstID(for: shipment.trackingNumber),
      agency: shipment.destinationAgency,
      mode: mode
    )
  }
}

/// The routes in force, replaced when the routing file is reloaded.
public final class HandoffRoutesHolder: Sendable {
  private let routes: Mutex<HandoffRoutes>

  /// Creates a holder.
  public init(_ routes: HandoffRoutes = HandoffRoutes()) { self.routes = Mutex(routes) }

  /// The routes in force.
  public var current: HandoffRoutes { self.routes.withLock { $0 } }

  /// Puts new routes in force (for dossiers digitized from now on).
  public func replace(with routes: HandoffRoutes) { self.routes.withLock { $0 = routes } }
}
