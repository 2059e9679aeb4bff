import GRPCCore
import Proto
import SwiftProtobuf
import Tracking

extension OversightService {
  /// Reads of unmasked personal data, newest first, filtered by shipment and caller.
  ///
  /// - Throws: `INVALID_ARGUMENT` naming a malformed number, page size or token; `UNAVAILABLE`.
  func listAccessRecords(
    request: Postalgateway_V1_ListAccessRecordsRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_ListAccessRecordsResponse {
    try await mappingErrors(self.logger, method: context.descriptor) {
      var v = RequestValidator()
      var query = AccessQuery()
      if !request.trackingNumber.isEmpty {
        query.trackingNumber = v.check("tracking_number") {
          try TrackingNumber(validating: request.trackingNumber)
        }
      }
      if !request.actor.isEmpty { query.actor = request.actor }
      if request.pageSize < 0 || request.pageSize > 500 {
        v.fail("page_size", "must be between 0 and 500")
      } else if request.pageSize > 0 {
        query.limit = Int(request.pageSize)
      }
      if !request.pageToken.isEmpty {
        query.before = v.check("page_token") {
          guard let sequence = Int64(request.pageToken), sequence > 0 else {
            throw InvalidValue("is not a token this RPC gave")
          }
          return sequence
        }
      }
      try v.finish()
      let records = try await self.audit.records(matching: query)
      return .with {
        $0.records = records.map(Postalgateway_V1_AccessRecord.init)
        $0.nextPageToken =
          records.count == query.limit ? records.last.map { "\($0.sequence)" } ?? "" : ""
      }
    }
  }
}

extension OversightService {
  /// A data subject's access request: everything held about one person, found through the
  /// blind index; the export is itself recorded in the access audit.
  ///
  /// - Throws: `INVALID_ARGUMENT` naming the field (both or neither of the identity number and
  ///   phone, a malformed one, a missing purpose); `UNAVAILABLE`.
  func exportPersonalData(
    request: Postalgateway_V1_ExportPersonalDataRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_PersonalDataExport {
    try await mappingErrors(self.logger, method: context.descriptor) {
      let actor = try self.identities.partnerActor(of: context)
      var v = RequestValidator()
      let digest = v.person(
        identityNumber: request.applicantIdentityNumber,
        phone: request.applicantPhone,
        lookup: self.shipments,
        required: true
      )
      let purpose = v.check("purpose") {
        guard !request.purpose.isEmpty else {
          throw InvalidValue("is required: the reference of the person's request")
        }
        return try AccessAuditor.purpose(request.purpose)
      }
      try v.finish()
      // finish() threw if either is nil.
      let shipments = try await self.shipments.shipments(ofPerson: digest!)
      var records: [AccessRecord] = []
      for shipment in shipments {
        var query = AccessQuery(trackingNumber: shipment.trackingNumber, limit: 500)
        while true {
          let page = try await self.audit.records(matching: query)
          records += page
          guard page.count == query.limit, let last = page.last else { break }
          query.before = last.sequence
        }
      }
      let now = self.clock.now()
      try await self.audit.record(
        .export,
        of: shipments.map(\.trackingNumber),
        by: actor.id,
        purpose: purpose!,
        now: now
      )
      return .with {
        $0.generatedAt = now.proto
        $0.shipments = shipments.map(Postalgateway_V1_Shipment.init)
        $0.accessRecords = records.sorted { $0.sequence > $1.sequence }
          .map(Postalgateway_V1_AccessRecord.init)
      }
    }
  }
}

extension Postalgateway_V1_AccessRecord {
  init(_ record: AccessRecord) {
    self.init()
    self.sequence = record.sequence
    self.at = record.at.proto
    self.actor = record.actor
    self.trackingNumber = record.trackingNumber.rawValue
    self.read =
      switch record.read {
      case .shipment: .shipment
      case .listing: .listing
      case .scan: .scan
      case .dossier: .dossier
      case .export: .export
      }
    self.purpose = record.purpose
    self.documentCode = record.documentCode ?? ""
  }
}
