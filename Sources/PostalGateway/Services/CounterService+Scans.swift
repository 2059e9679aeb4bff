import Foundation
import GRPCCore
import Logging
import Proto
import SwiftProtobuf
import Tracking

extension CounterService {
  /// Streams a scan in, hashing as it goes; stores it content-addressed and fsynced; records it.
  ///
  /// - Throws: `INVALID_ARGUMENT` (no header, empty, oversized, chunk too big, wrong type, hash
  ///   mismatch, item not handed over) with nothing stored; `FAILED_PRECONDITION`; `NOT_FOUND`;
  ///   `ALREADY_EXISTS`; `UNAVAILABLE`.
  func uploadScan(
    request: RPCAsyncSequence<Postalgateway_V1_UploadScanRequest, any Error>,
    context: ServerContext
  ) async throws -> Postalgateway_V1_UploadScanResponse {
    try await mappingErrors(self.logger, method: context.descriptor) {
      let actor = try self.actor(context)
      var messages = request.makeAsyncIterator()
      guard let first = try await messages.next(), case .header(let header) = first.part else {
        throw TrackingError.invalidField("header", "the first message must be the header")
      }
      var v = RequestValidator()
      let requestID = v.check("header.request_id") { try RequestID(validating: header.requestID) }
      let number = v.check("header.tracking_number") {
        try TrackingNumber(validating: header.trackingNumber)
      }
      if header.documentID.isEmpty { v.fail("header.document_id", "is required") }
      let contentType = v.check("header.content_type") { try ScanContentType(header.contentType) }
      if !header.expectedSha256.isEmpty, header.expectedSha256.count != 32 {
        v.fail("header.expected_sha256", "must be 32 bytes (a SHA-256 digest) or empty")
      }
      try v.finish()
      // finish() threw if any of these is nil.
      let (trackingNumber, type) = (number!, contentType!)
      // Refuse before reading the body when the scan could not be recorded anyway.
      try await self.shipments.checkScanAllowed(trackingNumber, documentID: header.documentID)

      let upload = try await self.blobs.beginUpload()
      let sha256: String
      do {
        while let message = try await messages.next() {
          guard case .chunk(let chunk) = message.part else {
            throw TrackingError.invalidField("header", "only the first message may be a header")
          }
          guard chunk.count <= self.limits.maximumChunkBytes else {
            throw TrackingError.invalidField(
              "chunk",
              "a chunk may be at most \(self.limits.maximumChunkBytes) bytes"
            )
          }
          guard upload.size + Int64(chunk.count) <= self.limits.maximumBytes else {
            throw TrackingError.invalidField(
              "chunk",
              "the file exceeds the limit of \(self.limits.maximumBytes) bytes"
            )
          }
          try upload.write(chunk)
        }
        guard upload.size > 0 else {
          throw TrackingError.invalidField("chunk", "the upload is empty")
        }
        guard type.matchesSignature(upload.head) else {
          throw TrackingError.invalidField(
            "header.content_type",
            "does not match the file's contents"
          )
        }
        sha256 = try upload.finish()
        if !header.expectedSha256.isEmpty, hexString(header.expectedSha256) != sha256 {
          throw TrackingError.invalidField(
            "header.expected_sha256",
            "does not match the uploaded bytes"
          )
        }
        _ = try await upload.commit(sha256: sha256)
      } catch {
        await upload.abort()
        throw error
      }

      var fingerprinted = header
      fingerprinted.requestID = ""
      fingerprinted.expectedSha256 = Data(sha256.utf8)
      let key = try RequestFingerprint.key(
        requestID!,
        method: context.descriptor,
        caller: actor,
        message: fingerprinted
      )
      let (recorded, scan) = try await self.shipments.recordScan(
        ScanRecording(
          trackingNumber: trackingNumber,
          documentID: header.documentID,
          sha256: sha256,
          size: upload.size,
          contentType: type
        ),
        by: actor,
        idempotencyKey: key,
        now: self.clock.now()
      )
      let answer = try await self.itemAnswer(recorded, scan, of: trackingNumber, actor: actor)
      return .with { ($0.scan, $0.shipment, $0.created) = answer }
    }
  }

  /// What recording a dossier item answers (logging what was appended): the item's record, the
  /// shipment after it, and whether this call made it.
  func itemAnswer(
    _ recorded: RecordedEvent?,
    _ scan: Scan,
    of number: TrackingNumber,
    actor: Actor
  ) async throws -> (Postalgateway_V1_ScanDetails, Postalgateway_V1_Shipment, Bool) {
    guard let recorded else {
      let shipment = try await self.shipments.shipment(number)
      return (Postalgateway_V1_ScanDetails(scan), Postalgateway_V1_Shipment(shipment), false)
    }
    self.logRecorded(recorded, actor: actor)
    return (
      Postalgateway_V1_ScanDetails(scan), Postalgateway_V1_Shipment(recorded.shipment),
      !recorded.isReplay
    )
  }

  /// Streams a stored scan out: metadata with the SHA-256 first, then the bytes.
  ///
  /// - Throws: `NOT_FOUND`; `DATA_LOSS` when the stored file no longer matches its hash.
  func downloadScan(
    request: Postalgateway_V1_DownloadScanRequest,
    response: RPCWriter<Postalgateway_V1_DownloadScanResponse>,
    context: ServerContext
  ) async throws {
    try await mappingErrors(self.logger, method: context.descriptor) {
      var v = RequestValidator()
      let purpose = v.check("purpose") { try AccessAuditor.purpose(request.purpose) }
      try v.finish()
      let actor = try self.actor(context)
      guard let (number, scan) = try await self.shipments.scan(documentCode: request.documentCode)
      else {
        throw TrackingError(code: .notFound, message: "no scan with this document code")
      }
      try await self.audit.record(
        .scan,
        of: [number],
        by: actor.id,
        // finish() threw if it is nil.
        purpose: purpose!,
        documentCode: scan.documentCode,
        now: self.clock.now()
      )
      try await self.blobs.stream(scan, to: response, logger: self.logger)
    }
  }
}

extension BlobStore {
  /// Streams a stored scan as `DownloadScan` answers it: its details first (with the SHA-256 to
  /// check against), then the bytes. A file that no longer matches its hash is `DATA_LOSS`.
  func stream(
    _ scan: Scan,
    to response: RPCWriter<Postalgateway_V1_DownloadScanResponse>,
    logger: Logger
  ) async throws {
    try await response.write(.with { $0.scan = Postalgateway_V1_ScanDetails(scan) })
    do {
      try await self.read(sha256: scan.sha256) { chunk in
        try await response.write(.with { $0.chunk = Data(chunk) })
      }
    } catch let error as BlobError {
      logger.error(
        "stored scan unreadable",
        metadata: [
          "scan.code": "\(scan.documentCode)", "scan.sha256": "\(scan.sha256)",
          "error": "\(error)",
        ]
      )
      throw TrackingError(code: .dataLoss, message: "the stored file does not match its hash")
    }
  }
}
