// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/core/tomato_export.h>
#include <QtCore/QException>
#include <QtCore/QSharedDataPointer>
#include <QtCore/QString>

namespace Tomato {

class RpcErrorData;

// The error of a failed call: thrown by blocking stub methods, carried by futures.
// Codes are split by where they arise. Client-side codes never travel on the wire;
// server-side codes do (docs/PROTOCOL.md lists their numbers). Each code says whether the
// call may safely be retried on another instance (it certainly did not run there) and
// whether it says something about the instance's health (drives the circuit breaker).
// A plain value type: copy it freely, from any thread.
class TOMATO_EXPORT RpcError : public QException
{
public:
    enum Code : quint16 {
        Ok = 0,
        // client side (1xx)
        Timeout = 100,          // no answer within the call's timeout
        CircuitOpen = 101,      // the instance's circuit breaker refused the call
        NoProvider = 102,       // no instance to send the call to
        ConnectFailed = 103,    // could not connect; the call was not sent
        Cancelled = 104,        // the caller cancelled the future
        ConnectionLost = 105,   // connection closed while the call was in flight
        ProtocolViolation = 106,// the peer sent bytes we cannot understand
        RequestTooLarge = 107,  // the encoded request exceeds max-frame-bytes; not sent
        ClientClosed = 108,     // the RpcClient was destroyed
        // server side (2xx), carried in response frames
        UnknownService = 200,
        UnknownMethod = 201,
        BadArguments = 202,     // wrong count or types of arguments, undecodable body
        Overloaded = 203,       // the server refused the call before running it
        ShuttingDown = 204,     // the server is draining and refused the call before running it
        ApplicationException = 205, // the method threw: see remoteType() and message()
        Internal = 206,         // the server failed for a reason of its own
        DeadlineExceeded = 207, // the caller's deadline passed before the method started, or while
                                // the future an asynchronous method returned was pending
        FrameTooLarge = 208,    // a frame exceeded the receiver's max-frame-bytes
        MalformedFrame = 209,   // bad magic, length or header
        UnsupportedVersion = 210,
        UnsupportedSerialization = 211,
        UnsupportedCompression = 212,
        BadRequest = 213,       // a well-formed frame that makes no sense (unknown command, ...)
        PermissionDenied = 214, // the caller may not call this service (tls-allowed-clients)
        // Error frames only: the server ended the connection at one of its limits.
        TooManyConnections = 215, // refused at max-connections(-per-host); nothing sent on it was read
        ResourceExhausted = 216,  // a frame too slow (frame-read-timeout-ms), no first byte in time,
                                  // or its memory needed by others (max-buffered-bytes)
    };

    RpcError();
    RpcError(Code code, QString message, QString remoteType = {});
    RpcError(const RpcError &other);
    RpcError &operator=(const RpcError &other);
    ~RpcError() override;

    Code code() const;
    QString message() const;
    // The C++ type of the exception the remote method threw (ApplicationException only).
    QString remoteType() const;

    // "Timeout: no reply within 2000 ms": code name and message, for logs and what().
    QString toString() const;
    const char *what() const noexcept override;

    static QString codeName(Code code);
    static bool isClientSide(Code code);
    // True when the call certainly did not run, so another instance may take it.
    static bool isRetryable(Code code);
    // True when the code says the instance is unwell (connect failure, timeout, overload).
    static bool isInstanceFailure(Code code);
    static bool isKnownCode(quint16 code);

    void raise() const override;
    RpcError *clone() const override;

private:
    QSharedDataPointer<RpcErrorData> d;
};

} // namespace Tomato
