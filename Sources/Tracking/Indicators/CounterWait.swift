/// A counter's queue ticket: issued to a citizen on arrival, called to the counter, and the
/// intake it led to, if any. Its wait is what the plan's counter-wait indicator counts.
public struct QueueTicket: Hashable, Sendable {
  /// The post office whose counter issued it (the recording clerk's).
  public var postOffice: PostOfficeCode
  /// As printed: 1–16 letters, digits or dashes.
  public var number: String
  /// When the citizen took the ticket.
  public var issuedAt: Timestamp
  /// When the counter called it.
  public var calledAt: Timestamp
  /// The shipment registered for it, if one was.
  public var trackingNumber: TrackingNumber?
  /// Who recorded it.
  public var recordedBy: String

  /// The longest wait accepted: a counter day.
  public static let longestWait: Duration = .seconds(12 * 3600)
  /// How old a ticket may be when recorded (a counter app that was offline catches up).
  public static let oldestAccepted: Duration = .seconds(7 * 86_400)
  /// How far ahead of the server's clock a device's time may run.
  public static let clockSkew: Duration = .seconds(300)

  /// Validates a ticket.
  /// - Throws: ``TrackingError`` `.invalidArgument` naming `ticket_number`, `issued_at` or
  ///   `called_at`.
  public init(
    postOffice: PostOfficeCode,
    number: String,
    issuedAt: Timestamp,
    calledAt: Timestamp,
    trackingNumber: TrackingNumber?,
    recordedBy: String,
    now: Timestamp
  ) throws {
    let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")
    guard (1 ... 16).contains(number.count), number.allSatisfy({ allowed.contains($0) }) else {
      throw TrackingError.invalidField(
        "ticket_number",
        "must be 1–16 upper-case letters, digits or dashes"
      )
    }
    guard issuedAt >= now.advanced(by: .zero - Self.oldestAccepted) else {
      throw TrackingError.invalidField("issued_at", "is more than 7 days ago")
    }
    guard calledAt <= now.advanced(by: Self.clockSkew) else {
      throw TrackingError.invalidField("called_at", "is in the future")
    }
    guard calledAt >= issuedAt else {
      throw TrackingError.invalidField("called_at", "is before issued_at")
    }
    guard issuedAt.duration(to: calledAt) <= Self.longestWait else {
      throw TrackingError.invalidField("called_at", "is more than 12 hours after issued_at")
    }
    self.postOffice = postOffice
    self.number = number
    self.issuedAt = issuedAt
    self.calledAt = calledAt
    self.trackingNumber = trackingNumber
    self.recordedBy = recordedBy
  }

  /// Whole seconds from issue to call.
  public var waitSeconds: Int64 {
    (self.calledAt.microseconds - self.issuedAt.microseconds) / 1_000_000
  }

  /// The hour of the day it was issued, 0–23 in Vietnam (UTC+7).
  public var issuedHourInVietnam: Int {
    Int((self.issuedAt.seconds + 7 * 3600).floorModulo(86_400) / 3600)
  }
}

/// How counter waits are grouped.
public enum CounterWaitGrouping: String, Hashable, Sendable, CaseIterable {
  /// By the post office.
  case postOffice = "POST_OFFICE"
  /// By the hour of the day the ticket was issued (Vietnam time).
  case hourOfDay = "HOUR_OF_DAY"
}

/// One group's counter waits, as the store aggregates them.
public struct CounterWaitRow: Hashable, Sendable {
  /// The post office code, or the hour `00`–`23`.
  public var key: String
  /// Tickets issued in the period.
  public var tickets: Int
  /// The mean wait, in seconds.
  public var meanSeconds: Double
  /// The median wait (nearest rank), in seconds.
  public var medianSeconds: Int64
  /// The 90th-percentile wait (nearest rank), in seconds.
  public var p90Seconds: Int64
  /// The longest wait, in seconds.
  public var longestSeconds: Int64
  /// Tickets called within ``CounterWaitTarget/seconds``.
  public var withinTarget: Int

  /// Creates a row.
  public init(
    key: String,
    tickets: Int,
    meanSeconds: Double,
    medianSeconds: Int64,
    p90Seconds: Int64,
    longestSeconds: Int64,
    withinTarget: Int
  ) {
    self.key = key
    self.tickets = tickets
    self.meanSeconds = meanSeconds
    self.medianSeconds = medianSeconds
    self.p90Seconds = p90Seconds
    self.longestSeconds = longestSeconds
    self.withinTarget = withinTarget
  }

  /// Tickets within the target per 100 tickets.
  public var withinTargetPercent: Double {
    IndicatorCounts.percent(self.withinTarget, of: self.tickets)
  }
}

/// The plan's counter-wait target.
public enum CounterWaitTarget {
  /// 15 minutes (≤ 30 in 2022, ≤ 15 from 2023).
  public static let minutes = 15
  /// The target in seconds.
  public static let seconds = Int64(minutes * 60)
  /// Where it comes from.
  public static let source =
    "Kế hoạch 103/KH-UBND (Thái Nguyên), mục II.6 và III.8: thời gian chờ trung bình tại quầy không quá 15 phút (2023–2025)"
}

/// Queue tickets and their aggregated waits.
public protocol QueueTicketStore: Sendable {
  /// Keeps a ticket once per post office, number and issue time.
  /// - Returns: `.applied` when kept now, `.replayed` when the same request (or the same ticket
  ///   with the same times) was kept before.
  /// - Throws: ``TrackingError`` `.requestIDReused` for a reused request id with another body,
  ///   `.duplicate` for the same ticket with other times; `.storageFailure`.
  func record(_ ticket: QueueTicket, key: IdempotencyKey) async throws -> StoreOutcome<QueueTicket>

  /// The waits of the tickets issued in `[from, before)`, per group, ordered by key.
  /// - Throws: ``TrackingError`` `.storageFailure`.
  func counterWaits(
    issuedFrom from: Timestamp,
    before: Timestamp,
    grouping: CounterWaitGrouping
  ) async throws -> [CounterWaitRow]
}

/// Records queue tickets, checking that the intake a ticket names exists.
public struct CounterQueue: Sendable {
  let tickets: any QueueTicketStore
  let shipments: any ShipmentStore

  /// Creates the desk over its stores.
  public init(tickets: any QueueTicketStore, shipments: any ShipmentStore) {
    self.tickets = tickets
    self.shipments = shipments
  }

  /// Keeps a ticket.
  /// - Throws: ``TrackingError`` `.notFound` for an unknown tracking number, and what
  ///   ``QueueTicketStore/record(_:key:)`` throws.
  public func record(
    _ ticket: QueueTicket,
    key: IdempotencyKey
  ) async throws -> StoreOutcome<QueueTicket> {
    if let number = ticket.trackingNumber, try await self.shipments.shipment(number) == nil {
      throw TrackingError.shipmentNotFound()
    }
    return try await self.tickets.record(ticket, key: key)
  }

  /// The waits of the tickets issued on the Vietnam dates `from` to `to`, inclusive.
  public func waits(
    from: CivilDate,
    to: CivilDate,
    grouping: CounterWaitGrouping
  ) async throws -> [CounterWaitRow] {
    try await self.tickets.counterWaits(
      issuedFrom: .startOfVietnamDay(from),
      before: .startOfVietnamDay(to.adding(days: 1)),
      grouping: grouping
    )
  }
}
