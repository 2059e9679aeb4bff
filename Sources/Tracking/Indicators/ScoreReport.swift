/// One group's scores: the art. 13 indicators of its dossiers and the post's share of the
/// Decision 766 groups it moves.
public struct ScoreReportRow: Hashable, Sendable {
  /// The art. 13 scores (zero dossiers when none was processed in the period).
  public var scores: ScoreRow
  /// The post's rates in percent (`nil`: nothing to measure).
  public var rates: [PostalMeasure: Double?]
  /// The Decision 766 shares, in the scorecard's order.
  public var shares: [Share]

  /// A group of the scorecard and the post's part of it.
  public struct Share: Hashable, Sendable {
    /// The group.
    public var group: ScorecardGroup
    /// The post's rate for it (`nil`: nothing to measure).
    public var rate: Double?
    /// The points it earns by ``Decision766/method``.
    public var points: Double?
  }
}

/// Computes the oversight office's scores from three grouped queries: the art. 13 classes of
/// the dossiers processed in the period, the postal legs that ended in it (as the SLA report
/// counts them), and the plan's indicators of the shipments registered in it.
public struct OversightScores: Sendable {
  let indicators: any IndicatorStore

  /// Creates the computation over the store.
  public init(indicators: any IndicatorStore) {
    self.indicators = indicators
  }

  /// The rows for a period (Vietnam days, inclusive), by key.
  public func report(
    from: CivilDate,
    through: CivilDate,
    grouping: IndicatorGrouping,
    scorecard: Decision766,
    now: Timestamp
  ) async throws -> [ScoreReportRow] {
    let start = Timestamp.startOfVietnamDay(from)
    let end = Timestamp.startOfVietnamDay(through.adding(days: 1))
    // Three independent reads: concurrent snapshots (WAL readers do not wait for each other).
    async let talliesRead = self.indicators.scoreTallies(
      processedFrom: start,
      before: end,
      grouping: grouping,
      now: now
    )
    async let onTimeRead = self.indicators.postalLegs(
      endedFrom: start,
      before: end,
      grouping: grouping
    )
    async let countsRead = self.indicators.shareCounts(
      registeredFrom: start,
      before: end,
      grouping: grouping
    )
    let (tallies, onTime, counts) = try await (talliesRead, onTimeRead, countsRead)
    let byKey = Dictionary(uniqueKeysWithValues: counts.map { ($0.key, $0) })
    let scored = Dictionary(uniqueKeysWithValues: tallies.map { ($0.key, $0) })
    let keys = Set(scored.keys).union(byKey.keys).union(onTime.keys).sorted()
    return keys.map { key in
      let legs = onTime[key]
      let count = byKey[key]
      let rates: [PostalMeasure: Double?] = [
        .onTime: legs.flatMap { $0.ended == 0 ? nil : 100 * Double($0.onTime) / Double($0.ended) },
        .digitized: count.flatMap { $0.dossiers == 0 ? nil : $0.digitizedPercent },
        .satisfaction: count.flatMap { $0.ratings == 0 ? nil : $0.satisfactionPercent },
      ]
      let tally =
        scored[key]
        ?? ScoreTally(
          key: key,
          dossiers: 0,
          agencyEarly: 0,
          agencyOnTime: 0,
          unitsEarly: 0,
          unitsOnTime: 0,
          noContact: 0,
          oneContact: 0,
          earlyWithoutComplaint: 0,
          onTimeWithoutComplaint: 0
        )
      return ScoreReportRow(
        scores: ScoreRow(tally),
        rates: rates,
        shares: scorecard.shares(rates).map {
          ScoreReportRow.Share(group: $0.group, rate: $0.rate, points: $0.points)
        }
      )
    }
  }
}
