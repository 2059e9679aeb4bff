import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import Tracking

/// Refuses partners whose certificate (by serial) or identity (by SPIFFE ID) the revocation list
/// in force names — on every call, so a revoked client is cut off at its next call on any
/// connection — and ends its open streams with `UNAUTHENTICATED` as soon as a reloaded list
/// names it.
struct RevocationInterceptor: ServerInterceptor {
  let resolver: any IdentityResolver
  let revocations: RevocationHolder
  let logger: Logger

  func intercept<Input: Sendable, Output: Sendable>(
    request: StreamingServerRequest<Input>,
    context: ServerContext,
    next:
      @Sendable (StreamingServerRequest<Input>, ServerContext) async throws ->
      StreamingServerResponse<Output>
  ) async throws -> StreamingServerResponse<Output> {
    guard case .partner(let actor) = self.resolver.identity(of: context) else {
      return try await next(request, context)
    }
    let serial = (context.transportSpecific as? HTTP2ServerTransport.Posix.Context)?
      .peerCertificate.map(RevocationListFile.serial(of:))
    let identity = actor.id
    if self.revocations.current.refuses(serial: serial, identity: identity) {
      self.logger.notice(
        "refused: certificate revoked",
        metadata: [
          "rpc.method": "\(context.descriptor.fullyQualifiedMethod)",
          "caller.role": "\(actor.role.rawValue)", "certificate.serial": "\(serial ?? "-")",
        ]
      )
      throw Self.revoked
    }
    var response = try await next(request, context)
    guard case .success(var contents) = response.accepted else { return response }
    let producer = contents.producer
    let revocations = self.revocations
    let logger = self.logger
    contents.producer = { writer in
      try await withThrowingTaskGroup(of: Metadata?.self) { group in
        group.addTask { try await producer(writer) }
        group.addTask {
          await revocations.waitUntilRefused(serial: serial, identity: identity)
          return nil
        }
        let first = try await group.next() ?? nil
        group.cancelAll()
        if let metadata = first { return metadata }
        // Cancelled with the call, or revoked while the stream was open.
        try Task.checkCancellation()
        logger.notice(
          "stream closed: certificate revoked",
          metadata: ["rpc.method": "\(context.descriptor.fullyQualifiedMethod)"]
        )
        throw Self.revoked
      }
    }
    response.accepted = .success(contents)
    return response
  }

  private static var revoked: any Error {
    TrackingError(code: .unauthenticated, message: "the client certificate has been revoked").status
  }
}
