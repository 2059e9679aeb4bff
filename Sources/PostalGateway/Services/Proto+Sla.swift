import Proto
import SwiftProtobuf
import Tracking

// Wire ↔ domain for service levels, in one place.

extension SlaHop {
  var proto: Postalgateway_V1_SlaHop {
    switch self {
    case .dossierLeg: .dossierLeg
    case .agencyProcessing: .agencyProcessing
    case .resultLeg: .resultLeg
    case .returnLeg: .returnLeg
    }
  }

  /// The domain hop of a wire value; `nil` for UNSPECIFIED.
  init?(_ proto: Postalgateway_V1_SlaHop) throws {
    switch proto {
    case .unspecified: return nil
    case .dossierLeg: self = .dossierLeg
    case .agencyProcessing: self = .agencyProcessing
    case .resultLeg: self = .resultLeg
    case .returnLeg: self = .returnLeg
    case .UNRECOGNIZED: throw InvalidValue("is not a known hop")
    }
  }
}

extension HopVerdict {
  var proto: Postalgateway_V1_HopVerdict {
    switch self {
    case .early: .early
    case .onTime: .onTime
    case .late: .late
    }
  }
}

extension SlaReportGrouping {
  init(_ proto: Postalgateway_V1_SlaReportGrouping) throws {
    switch proto {
    case .agency: self = .agency
    case .postOffice: self = .postOffice
    case .routeClass: self = .routeClass
    case .procedure: self = .procedure
    case .unspecified, .UNRECOGNIZED:
      throw InvalidValue("must be AGENCY, POST_OFFICE, ROUTE_CLASS or PROCEDURE")
    }
  }

  var proto: Postalgateway_V1_SlaReportGrouping {
    switch self {
    case .agency: .agency
    case .postOffice: .postOffice
    case .routeClass: .routeClass
    case .procedure: .procedure
    }
  }
}

extension Postalgateway_V1_HopTimeliness {
  /// A hop; `minutesPerDay` turns its working time into working days.
  init(_ hop: HopTimeliness, minutesPerDay: Int) {
    self = .with {
      $0.hop = hop.hop.proto
      $0.startEventSequence = Int64(hop.startSequence)
      $0.startEventType = hop.startKind.proto
      $0.startedAt = hop.startedAt.proto
      $0.workingDays = Int32(clamping: hop.workingDays)
      $0.countedFrom = hop.countedFrom.description
      $0.dueDate = hop.due.description
      $0.dueAt = hop.dueAt.proto
      $0.atRiskAt = hop.atRiskAt.proto
      $0.routeClass = hop.routeClass?.rawValue ?? ""
      $0.appointmentSlip = hop.appointmentSlip
      $0.running = hop.isRunning
      if let sequence = hop.endSequence { $0.endEventSequence = Int64(sequence) }
      if let ended = hop.endedAt { $0.endedAt = ended.proto }
      if let verdict = hop.verdict { $0.verdict = verdict.proto }
      if let stop = hop.stoppedBy { $0.stoppedBy = stop.proto }
      if let minutes = hop.workingMinutes {
        $0.workingDaysTaken = Double(minutes) / Double(max(1, minutesPerDay))
      }
      $0.calendarVersions = hop.calendarVersions
      $0.provisional = hop.provisional
      $0.policyVersion = hop.policyVersion
      $0.rule = hop.rule
      $0.extendedTo = hop.extendedTo?.description ?? ""
      $0.appointmentDate = hop.appointmentDate?.description ?? ""
      $0.appointmentLaterThanLaw = hop.appointmentLaterThanLaw
      $0.lateSupplementRequests = Int32(clamping: hop.lateSupplementRequests)
      $0.lateWithApology = hop.lateWithApology
    }
  }
}

extension Postalgateway_V1_SlaAlert {
  init(_ alert: SlaAlert, minutesPerDay: Int) {
    self = .with {
      $0.cursor = alert.cursor
      $0.kind = alert.kind == .atRisk ? .atRisk : .breach
      $0.raisedAt = alert.raisedAt.proto
      $0.trackingNumber = alert.hop.trackingNumber.rawValue
      $0.agencyCode = alert.hop.agency.rawValue
      $0.postOfficeCode = alert.hop.postOffice.rawValue
      $0.procedureCode = alert.hop.procedure.rawValue
      $0.hop = Postalgateway_V1_HopTimeliness(alert.hop, minutesPerDay: minutesPerDay)
    }
  }
}

extension Postalgateway_V1_SlaReportRow {
  init(_ row: SlaReportRow) {
    self = .with {
      $0.key = row.key
      $0.hop = row.hop.proto
      $0.ended = Int32(clamping: row.ended)
      $0.onTime = Int32(clamping: row.onTime)
      $0.late = Int32(clamping: row.late)
      $0.openBreaches = Int32(clamping: row.openBreaches)
      $0.onTimePercent = row.onTimePercent
      $0.medianWorkingDays = row.medianWorkingDays
      $0.p90WorkingDays = row.p90WorkingDays
      $0.lateWithApology = Int32(clamping: row.lateWithApology)
      $0.appointmentsLaterThanLaw = Int32(clamping: row.appointmentsLaterThanLaw)
      $0.lateSupplementRequests = Int32(clamping: row.lateSupplementRequests)
    }
  }
}

extension Postalgateway_V1_SlaChange {
  init(_ change: SlaDifference, minutesPerDay: Int) {
    self = .with {
      $0.trackingNumber = change.trackingNumber.rawValue
      $0.hop = change.hop.proto
      if let stored = change.stored {
        $0.stored = Postalgateway_V1_HopTimeliness(stored, minutesPerDay: minutesPerDay)
      }
      if let recomputed = change.recomputed {
        $0.recomputed = Postalgateway_V1_HopTimeliness(recomputed, minutesPerDay: minutesPerDay)
      }
      $0.verdictChanged = change.verdictChanged
    }
  }
}
