/// What an oversight chart plots over time.
public enum ChartIndicator: String, Hashable, Sendable, CaseIterable {
  /// Postal and agency hops that ended on time, per 100 that ended (by the end of the hop).
  case onTime = "ON_TIME"
  /// Dossiers with every item digitized, per 100 dossiers registered.
  case digitized = "DIGITIZED"
  /// Handoffs made electronically, per 100 transfers.
  case electronic = "ELECTRONIC"
  /// Satisfied ratings (overall 4 or 5), per 100 ratings.
  case satisfaction = "SATISFACTION"
  /// Papers reused by code, per 100 papers recorded.
  case reused = "REUSED"
  /// The mean counter wait, in minutes (post offices only).
  case wait = "WAIT"

  /// The plan's target for the indicator (Thái Nguyên 103/KH-UBND), drawn on the chart; `nil`
  /// when the plan sets none.
  public var target: Double? {
    switch self {
    case .onTime: nil
    case .digitized: 100
    case .electronic: 80
    case .satisfaction: 95
    case .reused: 80
    case .wait: Double(CounterWaitTarget.minutes)
    }
  }

  /// The unit of the values.
  public var unit: String { self == .wait ? "phút" : "%" }
}

/// How a chart's period is cut.
public enum ChartInterval: String, Hashable, Sendable, CaseIterable {
  /// Each day.
  case day = "DAY"
  /// ISO weeks (Monday to Sunday), clipped to the period.
  case week = "WEEK"
  /// Calendar months, clipped to the period.
  case month = "MONTH"

  /// The buckets of `[from, through]`, in order, each with its first and last day.
  public func buckets(from: CivilDate, through: CivilDate) -> [ClosedRange<CivilDate>] {
    var buckets: [ClosedRange<CivilDate>] = []
    var start = from
    while start <= through {
      let end: CivilDate =
        switch self {
        case .day: start
        case .week: start.adding(days: 7 - start.isoWeekday)
        case .month:
          CivilDate(
            year: start.month == 12 ? start.year + 1 : start.year,
            month: start.month == 12 ? 1 : start.month + 1,
            day: 1
          ).adding(days: -1)
        }
      let last = min(end, through)
      buckets.append(start ... last)
      start = last.adding(days: 1)
    }
    return buckets
  }
}

/// One bucket of one series.
public struct ChartPoint: Hashable, Sendable {
  /// The bucket's days.
  public var period: ClosedRange<CivilDate>
  /// The value (`nil`: nothing to measure in the bucket, not zero).
  public var value: Double?
  /// What the value was computed from (hops, dossiers, transfers, ratings, papers, tickets).
  public var count: Int

  /// Creates a point.
  public init(period: ClosedRange<CivilDate>, value: Double?, count: Int) {
    self.period = period
    self.value = value
    self.count = count
  }
}

/// One group's values over the buckets.
public struct ChartSeries: Hashable, Sendable {
  /// The agency or post office code.
  public var key: String
  /// One point per bucket, in order.
  public var points: [ChartPoint]
}

/// An indicator per group over a period cut into buckets.
public struct IndicatorChart: Hashable, Sendable {
  /// What is plotted.
  public var indicator: ChartIndicator
  /// The buckets, in order.
  public var buckets: [ClosedRange<CivilDate>]
  /// One series per group that has data in some bucket, by key.
  public var series: [ChartSeries]
}

/// Computes charts from the stores' grouped queries, one query per bucket (never by loading the
/// period's shipments).
public struct IndicatorCharts: Sendable {
  /// The most buckets a chart may have.
  public static let maximumBuckets = 62

  let indicators: any IndicatorStore
  let sla: SlaDesk
  let queue: CounterQueue

  /// Creates the chart maker over the stores.
  public init(indicators: any IndicatorStore, sla: SlaDesk, queue: CounterQueue) {
    self.indicators = indicators
    self.sla = sla
    self.queue = queue
  }

  /// The chart of `indicator` per group over `[from, through]` cut by `interval`.
  /// - Throws: ``TrackingError`` `.invalidArgument` (too many buckets; waits by agency),
  ///   `.storageFailure`.
  public func chart(
    _ indicator: ChartIndicator,
    from: CivilDate,
    through: CivilDate,
    interval: ChartInterval,
    grouping: IndicatorGrouping,
    now: Timestamp
  ) async throws -> IndicatorChart {
    let buckets = interval.buckets(from: from, through: through)
    guard buckets.count <= Self.maximumBuckets else {
      throw TrackingError.invalidField(
        "interval",
        "gives \(buckets.count) buckets; at most \(Self.maximumBuckets): choose a longer interval"
      )
    }
    if indicator == .wait, grouping != .postOffice {
      throw TrackingError.invalidField("group_by", "counter waits are per POST_OFFICE")
    }
    var values: [String: [Int: (value: Double?, count: Int)]] = [:]
    for (index, bucket) in buckets.enumerated() {
      for (key, value, count) in try await self.measure(indicator, bucket, grouping, now) {
        values[key, default: [:]][index] = (value, count)
      }
    }
    let series = values.keys.sorted().map { key in
      ChartSeries(
        key: key,
        points: buckets.indices.map { index in
          let measured = values[key]?[index]
          return ChartPoint(
            period: buckets[index],
            value: measured?.value,
            count: measured?.count ?? 0
          )
        }
      )
    }
    return IndicatorChart(indicator: indicator, buckets: buckets, series: series)
  }

  private func measure(
    _ indicator: ChartIndicator,
    _ bucket: ClosedRange<CivilDate>,
    _ grouping: IndicatorGrouping,
    _ now: Timestamp
  ) async throws -> [(String, Double?, Int)] {
    func share(_ part: Int, _ whole: Int) -> Double? {
      whole == 0 ? nil : 100 * Double(part) / Double(whole)
    }
    switch indicator {
    case .onTime:
      let report = try await self.sla.report(
        from: bucket.lowerBound,
        through: bucket.upperBound,
        grouping: grouping == .agency ? .agency : .postOffice,
        now: now
      )
      var tally: [String: (onTime: Int, ended: Int)] = [:]
      for row in report.rows {
        tally[row.key, default: (0, 0)].onTime += row.onTime
        tally[row.key, default: (0, 0)].ended += row.ended
      }
      return tally.map { ($0.key, share($0.value.onTime, $0.value.ended), $0.value.ended) }
    case .wait:
      return try await self.queue.waits(
        from: bucket.lowerBound,
        to: bucket.upperBound,
        grouping: .postOffice
      ).map { ($0.key, $0.tickets == 0 ? nil : $0.meanSeconds / 60, $0.tickets) }
    case .digitized, .electronic, .satisfaction, .reused:
      let rows = try await self.indicators.indicators(
        registeredFrom: .startOfVietnamDay(bucket.lowerBound),
        before: .startOfVietnamDay(bucket.upperBound.adding(days: 1)),
        grouping: grouping
      )
      return rows.map { row in
        switch indicator {
        case .digitized: (row.key, share(row.digitized, row.dossiers), row.dossiers)
        case .electronic:
          (
            row.key,
            share(row.electronicTransfers, row.electronicTransfers + row.paperOnlyTransfers),
            row.electronicTransfers + row.paperOnlyTransfers
          )
        case .satisfaction: (row.key, share(row.satisfied, row.ratings), row.ratings)
        default: (row.key, share(row.reusedPapers, row.papers), row.papers)
        }
      }
    }
  }
}
