import GRPCCore
import Proto
import SwiftProtobuf
import Tracking

extension OversightService {
  /// Ratings that opened a complaint, newest first.
  ///
  /// - Throws: `INVALID_ARGUMENT` for a limit outside 0–500; `UNAVAILABLE`.
  func listComplaints(
    request: Postalgateway_V1_ListComplaintsRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_ListComplaintsResponse {
    try await mappingErrors(self.logger, method: context.descriptor) {
      guard (0 ... 500).contains(request.limit) else {
        throw TrackingError.invalidField("limit", "must be between 0 and 500")
      }
      let ratings = try await self.ratings.complaints(
        limit: request.limit == 0 ? 50 : Int(request.limit)
      )
      return .with {
        $0.complaints = ratings.map { rating in
          .with {
            $0.trackingNumber = rating.trackingNumber.rawValue
            $0.ratedAt = rating.ratedAt.proto
            $0.onTime = rating.onTime
            $0.staffAttitude = Int32(rating.staffAttitude)
            $0.trips = Int32(rating.trips)
            $0.extraCostsAsked = rating.extraCostsAsked
            $0.overall = Int32(rating.overall)
            $0.comment = rating.comment
            $0.requested = rating.complaintRequested
          }
        }
      }
    }
  }
}

extension OversightService {
  /// The plan's indicators for the shipments registered in a period, per group.
  ///
  /// - Throws: `INVALID_ARGUMENT` naming a malformed date, a reversed or too long period, or a
  ///   missing grouping; `UNAVAILABLE`.
  func getIndicators(
    request: Postalgateway_V1_GetIndicatorsRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_Indicators {
    try await mappingErrors(self.logger, method: context.descriptor) {
      var v = RequestValidator()
      let (from, to) = v.period(from: request.fromDate, to: request.toDate)
      let grouping = v.check("group_by") { try IndicatorGrouping(request.groupBy) }
      try v.finish()
      // finish() threw if any is nil.
      let rows = try await self.indicators.indicators(
        registeredFrom: .startOfVietnamDay(from!),
        before: .startOfVietnamDay(to!.adding(days: 1)),
        grouping: grouping!
      )
      return .with {
        $0.fromDate = request.fromDate
        $0.toDate = request.toDate
        $0.groupBy = request.groupBy
        $0.generatedAt = self.clock.now().proto
        $0.rows = rows.map { counts in
          .with {
            $0.key = counts.key
            $0.received = Int32(clamping: counts.received)
            $0.dossiers = Int32(clamping: counts.dossiers)
            $0.digitized = Int32(clamping: counts.digitized)
            $0.digitizedPercent = counts.digitizedPercent
            $0.electronicTransfers = Int32(clamping: counts.electronicTransfers)
            $0.paperOnlyTransfers = Int32(clamping: counts.paperOnlyTransfers)
            $0.electronicPercent = counts.electronicPercent
            $0.ratings = Int32(clamping: counts.ratings)
            $0.satisfied = Int32(clamping: counts.satisfied)
            $0.satisfactionPercent = counts.satisfactionPercent
            $0.meanOverall = counts.meanOverall
            $0.complaints = Int32(clamping: counts.complaints)
            $0.papers = Int32(clamping: counts.papers)
            $0.reusedPapers = Int32(clamping: counts.reusedPapers)
            $0.reusedPercent = counts.reusedPercent
            $0.dossiersWithReuse = Int32(clamping: counts.dossiersWithReuse)
          }
        }
      }
    }
  }
}

extension OversightService {
  /// Staff intake against the plan's yearly target, annualised over a period.
  ///
  /// - Throws: `INVALID_ARGUMENT` naming a malformed date or a reversed or too long period;
  ///   `UNAVAILABLE`.
  func getStaffProductivity(
    request: Postalgateway_V1_GetStaffProductivityRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_StaffProductivityReport {
    try await mappingErrors(self.logger, method: context.descriptor) {
      var v = RequestValidator()
      let (from, to) = v.period(from: request.fromDate, to: request.toDate)
      try v.finish()
      // finish() threw if either is nil.
      let tallies = try await self.indicators.staffTallies(
        occurredFrom: .startOfVietnamDay(from!),
        before: .startOfVietnamDay(to!.adding(days: 1))
      )
      let rows = StaffProductivity.of(
        tallies,
        days: Int(to!.daysSinceEpoch - from!.daysSinceEpoch + 1),
        places: self.policy.current.places,
        map: self.map.current,
        remote: self.policy.current.remoteCommunes
      )
      return .with {
        $0.fromDate = request.fromDate
        $0.toDate = request.toDate
        $0.generatedAt = self.clock.now().proto
        $0.legalSource = [AreaClass.source, self.policy.current.remoteCommunes.source]
          .compactMap { $0 }.joined(separator: "; remote communes: ")
        $0.rows = rows.map { row in
          .with {
            $0.actor = row.tally.actor
            $0.postOfficeCode = row.tally.postOffice
            $0.areaClass = row.areaClass.rawValue
            $0.dossiersReceived = Int32(clamping: row.tally.dossiersReceived)
            $0.resultsDelivered = Int32(clamping: row.tally.resultsDelivered)
            $0.annualisedDossiers = row.annualisedDossiers
            $0.yearlyTarget = Int32(row.areaClass.yearlyTarget)
            $0.meetsTarget = row.meetsTarget
          }
        }
      }
    }
  }
}

extension IndicatorGrouping {
  init(_ wire: Postalgateway_V1_IndicatorGrouping) throws {
    switch wire {
    case .agency: self = .agency
    case .postOffice: self = .postOffice
    case .unspecified, .UNRECOGNIZED: throw InvalidValue("must be AGENCY or POST_OFFICE")
    }
  }
}
