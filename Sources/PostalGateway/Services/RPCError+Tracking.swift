import GRPCCore
import GRPCProtobuf
import Logging
import Tracking

extension TrackingError {
  /// The gRPC status this error is sent as. The one mapping from domain errors to the wire.
  var status: GoogleRPCStatus {
    switch self.code {
    case .invalidArgument:
      return GoogleRPCStatus(
        code: .invalidArgument,
        message: self.message,
        details: [
          .badRequest(
            violations: self.violations.map {
              ErrorDetails.BadRequest.FieldViolation(field: $0.field, description: $0.reason)
            }
          )
        ]
      )
    case .notFound:
      return GoogleRPCStatus(code: .notFound, message: self.message, details: [])
    case .illegalTransition:
      return GoogleRPCStatus(
        code: .failedPrecondition,
        message: self.message,
        details: [
          .preconditionFailure(
            violations: [.init(type: "STATE", subject: "shipment", description: self.message)]
          )
        ]
      )
    case .failedPrecondition:
      return GoogleRPCStatus(
        code: .failedPrecondition,
        message: self.message,
        details: [
          .preconditionFailure(violations: [
            .init(type: "RULE", subject: "shipment", description: self.message)
          ])
        ]
      )
    case .permissionDenied:
      return GoogleRPCStatus(code: .permissionDenied, message: self.message, details: [])
    case .requestIDReused:
      return GoogleRPCStatus(code: .alreadyExists, message: self.message, details: [])
    case .throttled:
      return GoogleRPCStatus(
        code: .resourceExhausted,
        message: self.message,
        details: self.retryAfter.map { [.retryInfo(delay: $0)] } ?? []
      )
    case .exhausted:
      return GoogleRPCStatus(code: .resourceExhausted, message: self.message, details: [])
    case .storageFailure:
      return GoogleRPCStatus(code: .unavailable, message: self.message, details: [])
    case .conflict:
      return GoogleRPCStatus(code: .aborted, message: self.message, details: [])
    case .unauthenticated:
      return GoogleRPCStatus(code: .unauthenticated, message: self.message, details: [])
    case .dataLoss:
      return GoogleRPCStatus(code: .dataLoss, message: self.message, details: [])
    case .resourceLimit:
      return GoogleRPCStatus(code: .resourceExhausted, message: self.message, details: [])
    case .unknownService:
      return GoogleRPCStatus(code: .notFound, message: self.message, details: [])
    case .duplicate:
      return GoogleRPCStatus(code: .alreadyExists, message: self.message, details: [])
    default:
      return GoogleRPCStatus(code: .internalError, message: "internal error", details: [])
    }
  }
}

/// Runs a handler body so that nothing leaves it unmapped: domain errors become their status,
/// `RPCError`s pass, anything else is logged and sent as `INTERNAL` without its text.
func mappingErrors<T: Sendable>(
  _ logger: Logger,
  method: MethodDescriptor,
  _ body: () async throws -> T
) async throws -> T {
  do {
    return try await body()
  } catch let error as TrackingError {
    if error.code == .storageFailure {
      logger.error(
        "store failure",
        metadata: [
          "rpc.method": "\(method.fullyQualifiedMethod)",
          "error.cause": "\(error.underlying ?? "")",
          "error.source": "\(error.file):\(error.line)",
        ]
      )
    }
    throw error.status
  } catch let error as RPCError {
    throw error
  } catch let error as GoogleRPCStatus {
    throw error
  } catch {
    logger.error(
      "unexpected error",
      metadata: [
        "rpc.method": "\(method.fullyQualifiedMethod)", "error.type": "\(type(of: error))",
      ]
    )
    throw RPCError(code: .internalError, message: "internal error")
  }
}
