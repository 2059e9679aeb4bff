import GRPCCore
import Logging
import SwiftProtobuf
import Synchronization
import Tracking

/// Limits what one caller may hold: at most ``maximumConcurrentCalls`` calls in flight per
/// caller identity (a partner's SPIFFE ID, or a citizen's address), and request messages of at
/// most ``maximumRequestBytes`` each. Either is `RESOURCE_EXHAUSTED` with the limit in the
/// message. (Messages larger than the transport's own limit — this one plus 1 MiB — are reset by
/// grpc-swift-nio-transport before any handler runs, and the client sees `CANCELLED`.)
struct RequestLimitsInterceptor: ServerInterceptor {
  let identities: any IdentityResolver
  let maximumConcurrentCalls: Int
  let maximumRequestBytes: Int
  let counter: CallCounter
  let metrics: GatewayMetrics
  let logger: Logger

  func intercept<Input: Sendable, Output: Sendable>(
    request: StreamingServerRequest<Input>,
    context: ServerContext,
    next:
      @Sendable (StreamingServerRequest<Input>, ServerContext) async throws ->
      StreamingServerResponse<Output>
  ) async throws -> StreamingServerResponse<Output> {
    let caller: String
    switch self.identities.identity(of: context) {
    case .partner(let actor): caller = actor.id
    case .citizen, nil: caller = context.clientAddress
    }
    guard self.counter.enter(caller, limit: self.maximumConcurrentCalls) else {
      self.metrics.refused(.callsInFlight)
      self.logger.notice(
        "refused: too many calls in flight",
        metadata: [
          "rpc.method": "\(context.descriptor.fullyQualifiedMethod)",
          "limit": "\(self.maximumConcurrentCalls)",
        ]
      )
      throw TrackingError(
        code: .resourceLimit,
        message:
          "at most \(self.maximumConcurrentCalls) calls may be in flight per caller; retry when one ends"
      ).status
    }
    let limit = self.maximumRequestBytes
    let metrics = self.metrics
    var bounded = request
    bounded.messages = RPCAsyncSequence(
      wrapping: request.messages.map { message in
        if let message = message as? any SwiftProtobuf.Message,
          let size = try? message.serializedBytes() as [UInt8], size.count > limit
        {
          metrics.refused(.requestSize)
          throw TrackingError(
            code: .resourceLimit,
            message: "a request message is \(size.count) bytes; the limit is \(limit)"
          ).status
        }
        return message
      }
    )
    let response: StreamingServerResponse<Output>
    do {
      response = try await next(bounded, context)
    } catch {
      self.counter.leave(caller)
      throw error
    }
    switch response.accepted {
    case .success(var contents):
      let producer = contents.producer
      contents.producer = { writer in
        defer { self.counter.leave(caller) }
        return try await producer(writer)
      }
      return StreamingServerResponse(accepted: .success(contents))
    case .failure(let error):
      self.counter.leave(caller)
      return StreamingServerResponse(error: error)
    }
  }
}

/// Calls in flight per caller.
final class CallCounter: Sendable {
  private let counts = Mutex<[String: Int]>([:])

  /// Counts a call in unless the caller has `limit` in flight already.
  func enter(_ caller: String, limit: Int) -> Bool {
    self.counts.withLock { counts in
      let current = counts[caller, default: 0]
      guard current < limit else { return false }
      counts[caller] = current + 1
      return true
    }
  }

  /// Counts a call out.
  func leave(_ caller: String) {
    self.counts.withLock { counts in
      let remaining = counts[caller, default: 1] - 1
      counts[caller] = remaining > 0 ? remaining : nil
    }
  }

  /// Calls in flight for a caller.
  func inFlight(_ caller: String) -> Int { self.counts.withLock { $0[caller, default: 0] } }
}
