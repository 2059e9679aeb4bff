import GRPCCore
import Logging
import Proto
import SwiftProtobuf
import Tracking

/// The postal staff's service: register pickups, record events, look shipments up.
///
/// Authorization happened in ``AuthorizationInterceptor``; the handler only asks who the caller
/// is, to stamp events with it.
struct CounterService {
  let shipments: ShipmentService
  let catalog: CatalogHolder
  let blobs: any BlobStore
  let audit: AccessAuditor
  let offline: OfflineSync
  let queue: CounterQueue
  let identities: any IdentityResolver
  let clock: any WallClock
  let limits: ScanLimits
  let trustDomain: String
  let log: CustodyLog
  let logger: Logger

  /// Size limits for uploads.
  struct ScanLimits: Sendable {
    /// The largest file accepted.
    var maximumBytes: Int64 = 50 * 1024 * 1024
    /// The largest chunk accepted.
    var maximumChunkBytes = 1024 * 1024
  }

  func actor(_ context: ServerContext) throws -> Actor {
    try self.identities.partnerActor(of: context)
  }
}

extension CounterService: Postalgateway_V1_CounterService.SimpleServiceProtocol {
  /// Books a pickup and mints its tracking number.
  ///
  /// - Throws: `INVALID_ARGUMENT` naming the field; `ALREADY_EXISTS` for a reused request id;
  ///   `UNAVAILABLE` when the store fails.
  func registerPickup(
    request: Postalgateway_V1_RegisterPickupRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_RegisterPickupResponse {
    try await mappingErrors(self.logger, method: context.descriptor) {
      let actor = try self.actor(context)
      let now = self.clock.now()
      let (requestID, registration) = try request.domain(actor: actor, now: now)
      let key = try self.key(
        requestID,
        request,
        clearing: \.requestID,
        context: context,
        actor: actor
      )
      let registered = try await self.shipments.registerPickup(
        registration,
        by: actor,
        idempotencyKey: key,
        now: now
      )
      self.logger.info(
        "pickup registered",
        metadata: [
          "shipment.tracking": "\(registered.shipment.trackingNumber)",
          "caller.id": "\(actor.id)",
          "request.replay": "\(registered.isReplay)",
        ]
      )
      return .with {
        $0.shipment = Postalgateway_V1_Shipment(registered.shipment)
        $0.verificationCode = registered.code.description
      }
    }
  }

  /// Appends an event if the transition table allows it.
  ///
  /// - Throws: `INVALID_ARGUMENT` naming the field; `NOT_FOUND`; `FAILED_PRECONDITION` for an
  ///   illegal transition; `ALREADY_EXISTS` for a reused request id; `UNAVAILABLE`.
  func recordEvent(
    request: Postalgateway_V1_RecordEventRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_RecordEventResponse {
    try await mappingErrors(self.logger, method: context.descriptor) {
      let actor = try self.actor(context)
      let (requestID, recording) = try request.domain(trustDomain: self.trustDomain)
      let key = try self.key(
        requestID,
        request,
        clearing: \.requestID,
        context: context,
        actor: actor
      )
      let recorded = try await self.shipments.recordEvent(
        recording,
        by: actor,
        idempotencyKey: key,
        now: self.clock.now()
      )
      self.logger.info(
        "event recorded",
        metadata: [
          "shipment.tracking": "\(recorded.shipment.trackingNumber)",
          "event.type": "\(recorded.event.kind.rawValue)",
          "shipment.state": "\(recorded.shipment.state.rawValue)",
          "caller.id": "\(actor.id)",
          "request.replay": "\(recorded.isReplay)",
        ]
      )
      return Postalgateway_V1_RecordEventResponse(recorded)
    }
  }

  /// Returns a shipment with its history.
  ///
  /// - Throws: `INVALID_ARGUMENT` for a malformed number; `NOT_FOUND`; `UNAVAILABLE`.
  func getShipment(
    request: Postalgateway_V1_GetShipmentRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_Shipment {
    try await mappingErrors(self.logger, method: context.descriptor) {
      var v = RequestValidator()
      let number = v.check("tracking_number") {
        try TrackingNumber(validating: request.trackingNumber)
      }
      let purpose = v.check("purpose") { try AccessAuditor.purpose(request.purpose) }
      try v.finish()
      let actor = try self.actor(context)
      // finish() threw if the number is nil.
      let stored = try await self.shipments.stored(number!)
      try await self.audit.record(
        .shipment,
        of: [number!],
        by: actor.id,
        purpose: purpose!,
        now: self.clock.now()
      )
      var shipment = Postalgateway_V1_Shipment(stored.shipment)
      shipment.hops = stored.hops.map {
        Postalgateway_V1_HopTimeliness($0, minutesPerDay: self.shipments.workingMinutesPerDay)
      }
      return shipment
    }
  }

  /// Lists shipments newest first.
  ///
  /// - Throws: `INVALID_ARGUMENT` for a bad filter, page size or token; `UNAVAILABLE`.
  func listShipments(
    request: Postalgateway_V1_ListShipmentsRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_ListShipmentsResponse {
    try await mappingErrors(self.logger, method: context.descriptor) {
      let (query, purpose) = try request.domain(lookup: self.shipments)
      let actor = try self.actor(context)
      let page = try await self.shipments.shipments(matching: query)
      try await self.audit.record(
        .listing,
        of: page.shipments.map(\.trackingNumber),
        by: actor.id,
        purpose: purpose,
        now: self.clock.now()
      )
      return .with {
        $0.shipments = page.shipments.map(Postalgateway_V1_Shipment.init)
        $0.nextPageToken = page.next.map { PageToken.encode($0, filter: query.filter) } ?? ""
      }
    }
  }
}
