/// How a report groups hops.
public enum SlaReportGrouping: String, Hashable, Sendable, CaseIterable {
  case agency = "AGENCY"
  case postOffice = "POST_OFFICE"
  case routeClass = "ROUTE_CLASS"
  case procedure = "PROCEDURE"

  /// The group a hop falls in.
  public func key(of hop: HopTimeliness) -> String {
    switch self {
    case .agency: hop.agency.rawValue
    case .postOffice: hop.postOffice.rawValue
    case .routeClass: hop.routeClass?.rawValue ?? "-"
    case .procedure: hop.procedure.rawValue
    }
  }
}

/// One row of a report: one group and one hop kind.
public struct SlaReportRow: Hashable, Sendable {
  /// The group (an agency, post office, route class or procedure code).
  public var key: String
  /// The hop kind.
  public var hop: SlaHop
  /// Hops that ended in the period with a verdict.
  public var ended: Int
  /// Of those, EARLY or ON_TIME.
  public var onTime: Int
  /// Of those, LATE without an extension.
  public var late: Int
  /// Of those, LATE after the agency extended with an apology (counted apart, TT 01/2018 art. 13).
  public var lateWithApology: Int
  /// Hops whose agency appointment is later than the law allows.
  public var appointmentsLaterThanLaw: Int
  /// Supplement requests that came late or were not the first (the agency's delay).
  public var lateSupplementRequests: Int
  /// Hops still running past their due time at the report's time.
  public var openBreaches: Int
  /// `onTime / ended` in percent (0 when nothing ended).
  public var onTimePercent: Double
  /// Median and 90th percentile of the working time taken, in working days.
  public var medianWorkingDays: Double
  public var p90WorkingDays: Double
}

/// A report per period: counts, on-time share, median and p90 working durations, breaches.
public struct SlaReport: Hashable, Sendable {
  /// The rows, by key then hop.
  public var rows: [SlaReportRow]

  /// Groups hops in memory: the reference the stores' aggregation is tested against.
  /// - Parameters:
  ///   - hops: Ended hops of the period and running overdue hops.
  ///   - grouping: By what.
  ///   - minutesPerDay: Working minutes of a day, to express durations in working days.
  public init(hops: [HopTimeliness], grouping: SlaReportGrouping, minutesPerDay: Int) {
    struct Group: Hashable {
      var key: String
      var hop: SlaHop
    }
    let groups = Dictionary(grouping: hops) { Group(key: grouping.key(of: $0), hop: $0.hop) }
    self.rows = groups.map { group, hops in
      let judged = hops.filter { $0.verdict != nil }
      let late = judged.filter { $0.verdict == .late }.count
      let apologized = judged.filter(\.lateWithApology).count
      let days = judged.compactMap(\.workingMinutes).sorted().map {
        Double($0) / Double(max(1, minutesPerDay))
      }
      return SlaReportRow(
        key: group.key,
        hop: group.hop,
        ended: judged.count,
        onTime: judged.count - late,
        late: late - apologized,
        lateWithApology: apologized,
        appointmentsLaterThanLaw: hops.filter(\.appointmentLaterThanLaw).count,
        lateSupplementRequests: hops.reduce(0) { $0 + $1.lateSupplementRequests },
        openBreaches: hops.filter(\.isRunning).count,
        onTimePercent: judged.isEmpty
          ? 0 : 100 * Double(judged.count - late) / Double(judged.count),
        medianWorkingDays: Self.percentile(days, 0.5),
        p90WorkingDays: Self.percentile(days, 0.9)
      )
    }.sorted { ($0.key, $0.hop.rawValue) < ($1.key, $1.hop.rawValue) }
  }

  /// A report from the store's aggregates.
  /// - Parameters:
  ///   - aggregates: One per group and hop.
  ///   - minutesPerDay: Working minutes of a day, to express durations in working days.
  public init(aggregates: [SlaReportAggregate], minutesPerDay: Int) {
    let day = Double(max(1, minutesPerDay))
    self.rows = aggregates.map {
      SlaReportRow(
        key: $0.key,
        hop: $0.hop,
        ended: $0.ended,
        onTime: $0.ended - $0.late,
        late: $0.late - $0.lateWithApology,
        lateWithApology: $0.lateWithApology,
        appointmentsLaterThanLaw: $0.appointmentsLaterThanLaw,
        lateSupplementRequests: $0.lateSupplementRequests,
        openBreaches: $0.openBreaches,
        onTimePercent: $0.ended == 0 ? 0 : 100 * Double($0.ended - $0.late) / Double($0.ended),
        medianWorkingDays: Double($0.medianWorkingMinutes) / day,
        p90WorkingDays: Double($0.p90WorkingMinutes) / day
      )
    }.sorted { ($0.key, $0.hop.rawValue) < ($1.key, $1.hop.rawValue) }
  }

  /// The nearest-rank percentile of sorted values (0 for none).
  public static func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    let rank = Int((p * Double(sorted.count)).rounded(.up))
    return sorted[min(sorted.count, max(1, rank)) - 1]
  }
}

/// A hop whose recomputed due date, verdict or state differs from the stored one.
public struct SlaDifference: Hashable, Sendable {
  /// The shipment.
  public var trackingNumber: TrackingNumber
  /// The hop.
  public var hop: SlaHop
  /// What was stored (nil: the hop was not stored).
  public var stored: HopTimeliness?
  /// What the inputs in force give (nil: no such hop any more).
  public var recomputed: HopTimeliness?

  /// Whether the verdict differs: an ended hop's verdict, or a running hop's due date (which
  /// decides its verdict), or the hop appeared, disappeared or changed state.
  public var verdictChanged: Bool {
    guard let old = self.stored, let new = self.recomputed, old.isRunning == new.isRunning
    else { return true }
    return old.isRunning ? old.due != new.due : old.verdict != new.verdict
  }

  /// Compares stored and recomputed hops of one shipment.
  public static func between(
    stored: [HopTimeliness],
    recomputed: [HopTimeliness],
    of number: TrackingNumber
  ) -> [SlaDifference] {
    SlaHop.allCases.compactMap { hop in
      let old = stored.first { $0.hop == hop }
      let new = recomputed.first { $0.hop == hop }
      guard Self.verdictChanged(old, new) else { return nil }
      return SlaDifference(trackingNumber: number, hop: hop, stored: old, recomputed: new)
    }
  }

  static func verdictChanged(_ old: HopTimeliness?, _ new: HopTimeliness?) -> Bool {
    switch (old, new) {
    case (nil, nil): false
    case (let old?, let new?):
      old.startSequence != new.startSequence || old.due != new.due || old.verdict != new.verdict
        || old.endSequence != new.endSequence || old.stoppedBy != new.stoppedBy
    default: true
    }
  }
}
