/// What the post measures that a Decision 766/QĐ-TTg group scores.
public enum PostalMeasure: String, Hashable, Sendable, CaseIterable {
  /// Postal legs ended on or before their due day (the SLA report's hops).
  case onTime = "ON_TIME"
  /// Dossiers with every checklist item digitized at intake.
  case digitized = "DIGITIZED"
  /// Citizens' ratings with an overall mark of 4 or 5.
  case satisfaction = "SATISFACTION"
}

/// One group of the Decision 766 scorecard (Bộ chỉ số chỉ đạo, điều hành và đánh giá chất lượng
/// phục vụ người dân, doanh nghiệp), as configured.
public struct ScorecardGroup: Hashable, Sendable {
  /// A short code (`ON_TIME`, `DIGITIZATION`, …).
  public var code: String
  /// The group's Vietnamese name.
  public var name: String
  /// Its maximum points.
  public var points: Double
  /// Whether the weight is confirmed by two or more sources ([C]) or not ([U]).
  public var confirmed: Bool
  /// What the post measures for it, if anything.
  public var measure: PostalMeasure?

  /// Creates a group.
  public init(
    code: String,
    name: String,
    points: Double,
    confirmed: Bool,
    measure: PostalMeasure?
  ) {
    self.code = code
    self.name = name
    self.points = points
    self.confirmed = confirmed
    self.measure = measure
  }
}

/// The Decision 766 groups and their weights, data with their source (the SLA policy's
/// `decision766`).
public struct Decision766: Hashable, Sendable {
  /// The groups.
  public var groups: [ScorecardGroup]
  /// Where the weights come from.
  public var source: String

  /// Creates a scorecard.
  public init(groups: [ScorecardGroup] = [], source: String = "") {
    self.groups = groups
    self.source = source
  }

  /// How the post's share is scored: the decision's formulas are not in the sources this
  /// service was built from, so a group's points are read as proportional to the rate.
  public static let method =
    "the postal share of a group = its points × the post's rate / 100 (proportional reading: the decision's own formulas were not available)"

  /// The post's share of each group it moves, from its rates in percent (`nil`: nothing to
  /// measure in the period).
  public func shares(
    _ rates: [PostalMeasure: Double?]
  ) -> [(group: ScorecardGroup, rate: Double?, points: Double?)] {
    self.groups.compactMap { group in
      guard let measure = group.measure else { return nil }
      let rate = rates[measure] ?? nil
      return (group, rate, rate.map { ($0 * group.points).rounded() / 100 })
    }
  }
}
