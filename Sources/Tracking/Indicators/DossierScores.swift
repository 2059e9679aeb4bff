/// The per-dossier indicators of Circular 01/2018/TT-VPCP art. 13 this service has the data for
/// (art. 14.1 scores them per dossier; art. 15.1a sums 1, 2, 3, 4 and 7 for the officials who
/// received and returned the dossiers), each 2, 1 or 0 points.
public enum ScoreIndicator: Int, Hashable, Sendable, CaseIterable {
  /// 1: the total processing time against the time the law allows (the agency's processing
  /// hop: the law's due date from the procedure catalog, restarted by a completed supplement).
  case totalTime = 1
  /// 2: each participating unit's time against its allotment, the post included (the worst of
  /// the dossier's hops: postal legs and the agency's processing; a hop still running past its
  /// due date counts as late).
  case unitTime = 2
  /// 3: the times the applicant had to contact the receiving place to complete the dossier
  /// (guidance on missing items at the counter and the agency's supplement requests).
  case contacts = 3
  /// 4: the bodies the applicant had to contact: none, or only the one-stop counter (every
  /// contact recorded here goes through the post, acting for the counter).
  case bodies = 4
  /// 7: staff attitude: early and no complaint 2, on time and no complaint 1, otherwise 0 (a
  /// complaint: a rating that opened a case — asked for, a low mark, or extra costs asked).
  case attitude = 7

  /// Art. 13 indicators this service cannot compute, and why.
  public static let notComputed: [(indicator: Int, reason: String)] = [
    (
      5,
      "the organisation of the one-stop counter (share of procedures fully processed there) is an agency-level fact the post does not record"
    ),
    (
      6,
      "publication of the procedures (posted and electronic) is an agency-level fact the post does not record"
    ),
    (8, "handling of feedback is the agency's; its complaint cases are not in this service"),
    (9, "online public services are the agency's; the post records only its own dossiers"),
  ]

  /// Where the rules come from.
  public static let source =
    "TT 01/2018/TT-VPCP art. 13–15 (Bộ Pháp điển 3.3.TT.34.13–15): indicators 1–4 and 7 per dossier, the average per indicator rounded to one decimal, the total their sum, officials' bands 5 and 3.5"
}

/// How many dossiers of a group fell in each class the art. 13 scales distinguish, as the store
/// counts them in one grouped query.
public struct ScoreTally: Hashable, Sendable {
  /// The agency or post office code.
  public var key: String
  /// Dossiers whose agency processing ended with a verdict in the period.
  public var dossiers: Int
  /// Of those, processed before / on the law's due day.
  public var agencyEarly: Int
  public var agencyOnTime: Int
  /// Of those, whose every hop ended before / on (or before) its due day.
  public var unitsEarly: Int
  public var unitsOnTime: Int
  /// Of those, with no contact to complete the dossier, and with exactly one.
  public var noContact: Int
  public var oneContact: Int
  /// Of `unitsEarly` / `unitsOnTime`, those without a complaint.
  public var earlyWithoutComplaint: Int
  public var onTimeWithoutComplaint: Int

  /// Creates a tally.
  public init(
    key: String,
    dossiers: Int,
    agencyEarly: Int,
    agencyOnTime: Int,
    unitsEarly: Int,
    unitsOnTime: Int,
    noContact: Int,
    oneContact: Int,
    earlyWithoutComplaint: Int,
    onTimeWithoutComplaint: Int
  ) {
    self.key = key
    self.dossiers = dossiers
    self.agencyEarly = agencyEarly
    self.agencyOnTime = agencyOnTime
    self.unitsEarly = unitsEarly
    self.unitsOnTime = unitsOnTime
    self.noContact = noContact
    self.oneContact = oneContact
    self.earlyWithoutComplaint = earlyWithoutComplaint
    self.onTimeWithoutComplaint = onTimeWithoutComplaint
  }
}

/// Art. 15.3a: how much of their duty the officials did, by the total of indicators 1–4 and 7.
public enum DutyBand: String, Hashable, Sendable, CaseIterable {
  /// 5 points or more: 100% of the duty.
  case full = "FULL"
  /// 3.5 to under 5: 70% to under 100%.
  case most = "MOST"
  /// Under 3.5: under 70%.
  case belowSeventy = "BELOW_70"

  /// The band of a total.
  public init(total: Double) {
    self = total >= 5 ? .full : total >= 3.5 ? .most : .belowSeventy
  }
}

/// One group's art. 13 scores: each indicator's average over its dossiers (art. 15.2a), the
/// total (art. 15.2b) and its band (art. 15.3a).
public struct ScoreRow: Hashable, Sendable {
  /// The agency or post office code.
  public var key: String
  /// The dossiers scored.
  public var dossiers: Int
  /// The average points per indicator, rounded to one decimal.
  public var averages: [ScoreIndicator: Double]
  /// The sum of the rounded averages.
  public var total: Double
  /// The officials' band (`nil` when no dossier was scored).
  public var band: DutyBand?

  /// Scores a tally by the art. 13 scales.
  public init(_ tally: ScoreTally) {
    let points: [ScoreIndicator: Int] = [
      .totalTime: 2 * tally.agencyEarly + tally.agencyOnTime,
      .unitTime: 2 * tally.unitsEarly + tally.unitsOnTime,
      .contacts: 2 * tally.noContact + tally.oneContact,
      .bodies: 2 * tally.noContact + (tally.dossiers - tally.noContact),
      .attitude: 2 * tally.earlyWithoutComplaint + tally.onTimeWithoutComplaint,
    ]
    self.key = tally.key
    self.dossiers = tally.dossiers
    self.averages = points.mapValues { Self.average($0, over: tally.dossiers) }
    self.total = Self.rounded(self.averages.values.reduce(0, +))
    self.band = tally.dossiers == 0 ? nil : DutyBand(total: self.total)
  }

  /// Points per dossier rounded half away from zero to one decimal (0 for no dossier).
  public static func average(_ points: Int, over dossiers: Int) -> Double {
    dossiers == 0 ? 0 : Self.rounded(Double(points) / Double(dossiers))
  }

  private static func rounded(_ value: Double) -> Double { (value * 10).rounded() / 10 }
}

/// Aggregates the art. 13 classes in the store, never by loading the period into memory.
public protocol ScoreStore: Sendable {
  /// Per group, the dossiers whose agency processing ended with a verdict in `[from, before)`,
  /// classed; running hops are late once past their due time at `now`.
  /// - Throws: ``TrackingError`` `.storageFailure`.
  func scoreTallies(
    processedFrom from: Timestamp,
    before: Timestamp,
    grouping: IndicatorGrouping,
    now: Timestamp
  ) async throws -> [ScoreTally]

  /// Per group, the postal legs (dossier, result and return legs) that ended with a verdict in
  /// `[from, before)`, and of those the ones ended on or before their due day.
  /// - Throws: ``TrackingError`` `.storageFailure`.
  func postalLegs(
    endedFrom from: Timestamp,
    before: Timestamp,
    grouping: IndicatorGrouping
  ) async throws -> [String: (onTime: Int, ended: Int)]

  /// Per group, of the shipments registered in `[from, before)`, what the Decision 766 shares
  /// need and nothing more: `received`, `dossiers`, `digitized`, `ratings` and `satisfied` (the
  /// other counts are 0).
  /// - Throws: ``TrackingError`` `.storageFailure`.
  func shareCounts(
    registeredFrom from: Timestamp,
    before: Timestamp,
    grouping: IndicatorGrouping
  ) async throws -> [IndicatorCounts]
}
