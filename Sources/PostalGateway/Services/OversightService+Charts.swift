import GRPCCore
import Proto
import SwiftProtobuf
import Tracking

extension OversightService {
  /// One indicator over time per group, with the chart rendered as SVG.
  ///
  /// - Throws: `INVALID_ARGUMENT` naming the field; `UNAVAILABLE`.
  func getIndicatorChart(
    request: Postalgateway_V1_GetIndicatorChartRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_IndicatorChart {
    try await mappingErrors(self.logger, method: context.descriptor) {
      var v = RequestValidator()
      let (from, to) = v.period(from: request.fromDate, to: request.toDate)
      let grouping = v.check("group_by") { try IndicatorGrouping(request.groupBy) }
      let indicator = v.check("indicator") { try ChartIndicator(request.indicator) }
      let interval = v.check("interval") { try ChartInterval(request.interval) }
      try v.finish()
      guard let from, let to, let grouping, let indicator, let interval else {
        throw TrackingError.invalidField("request", "is malformed")
      }
      let now = self.clock.now()
      let chart = try await IndicatorCharts(
        indicators: self.indicators,
        sla: self.sla,
        queue: self.queue
      ).chart(
        indicator,
        from: from,
        through: to,
        interval: interval,
        grouping: grouping,
        now: now
      )
      return .with {
        $0.fromDate = request.fromDate
        $0.toDate = request.toDate
        $0.indicator = request.indicator
        $0.interval = request.interval
        $0.groupBy = request.groupBy
        $0.unit = indicator.unit
        if let target = indicator.target {
          $0.hasTarget_p = true
          $0.target = target
        }
        $0.buckets = chart.buckets.map { bucket in
          .with {
            $0.firstDate = bucket.lowerBound.description
            $0.lastDate = bucket.upperBound.description
          }
        }
        $0.series = chart.series.map { series in
          .with {
            $0.key = series.key
            $0.values = series.points.map { point in
              .with {
                $0.measured = point.value != nil
                $0.value = point.value ?? 0
                $0.count = Int32(clamping: point.count)
              }
            }
          }
        }
        $0.svg = SvgChart(chart: chart).render()
        $0.generatedAt = now.proto
      }
    }
  }
}

extension ChartIndicator {
  init(_ wire: Postalgateway_V1_ChartIndicator) throws {
    switch wire {
    case .onTime: self = .onTime
    case .digitized: self = .digitized
    case .electronic: self = .electronic
    case .satisfaction: self = .satisfaction
    case .reused: self = .reused
    case .wait: self = .wait
    case .unspecified, .UNRECOGNIZED:
      throw InvalidValue("must be ON_TIME, DIGITIZED, ELECTRONIC, SATISFACTION, REUSED or WAIT")
    }
  }
}

extension ChartInterval {
  init(_ wire: Postalgateway_V1_ChartInterval) throws {
    switch wire {
    case .day: self = .day
    case .week: self = .week
    case .month: self = .month
    case .unspecified, .UNRECOGNIZED: throw InvalidValue("must be DAY, WEEK or MONTH")
    }
  }
}
