// SPDX-License-Identifier: Apache-2.0
#include <tomato/core/rpcerror.h>

#include <QtCore/QFuture>
#include <QtCore/QPromise>
#include <QtTest/QTest>

#include <exception>
#include <memory>

using Tomato::RpcError;

// RpcError is what every failed call ends in, so its classification decides failover and
// the circuit breaker, and it must survive the trip through QFuture's exception store.
class tst_RpcError : public QObject
{
    Q_OBJECT

private slots:
    void everyCodeIsClassifiedByWhatTheCallerShouldDo_data();
    void everyCodeIsClassifiedByWhatTheCallerShouldDo();
    void onlyDefinedCodesAreKnown_data();
    void onlyDefinedCodesAreKnown();
    void anUndefinedCodeStillHasAPrintableName();
    void toStringNamesCodeRemoteTypeAndMessage_data();
    void toStringNamesCodeRemoteTypeAndMessage();
    void aDefaultErrorIsOk();
    void copiesAndClonesKeepEverything();
    void aFutureCarriesTheErrorToResult_data();
    void aFutureCarriesTheErrorToResult();
    void aFutureCarriesTheErrorToOnFailed();
    void anExceptionPointerToAnRpcErrorRoundTripsToo();
};

void tst_RpcError::everyCodeIsClassifiedByWhatTheCallerShouldDo_data()
{
    QTest::addColumn<RpcError::Code>("code");
    QTest::addColumn<QString>("name");
    QTest::addColumn<bool>("clientSide");
    // The call certainly did not run, so another instance may take it.
    QTest::addColumn<bool>("retryable");
    // The instance is unwell: counts towards its circuit breaker.
    QTest::addColumn<bool>("instanceFailure");

    // code, name, client side, retryable, instance failure
    QTest::newRow("Ok") << RpcError::Ok << "Ok" << false << false << false;
    // A timed-out call may have run: never retried elsewhere, but the instance is suspect.
    QTest::newRow("Timeout") << RpcError::Timeout << "Timeout" << true << false << true;
    QTest::newRow("CircuitOpen") << RpcError::CircuitOpen << "CircuitOpen" << true << true << false;
    QTest::newRow("NoProvider") << RpcError::NoProvider << "NoProvider" << true << false << false;
    QTest::newRow("ConnectFailed") << RpcError::ConnectFailed << "ConnectFailed" << true << true << true;
    QTest::newRow("Cancelled") << RpcError::Cancelled << "Cancelled" << true << false << false;
    QTest::newRow("ConnectionLost") << RpcError::ConnectionLost << "ConnectionLost" << true << false << true;
    QTest::newRow("ProtocolViolation") << RpcError::ProtocolViolation << "ProtocolViolation" << true << false << false;
    QTest::newRow("RequestTooLarge") << RpcError::RequestTooLarge << "RequestTooLarge" << true << false << false;
    QTest::newRow("ClientClosed") << RpcError::ClientClosed << "ClientClosed" << true << false << false;
    // An instance that does not publish the service may be the only one that is wrong.
    QTest::newRow("UnknownService") << RpcError::UnknownService << "UnknownService" << false << true << false;
    QTest::newRow("UnknownMethod") << RpcError::UnknownMethod << "UnknownMethod" << false << false << false;
    QTest::newRow("BadArguments") << RpcError::BadArguments << "BadArguments" << false << false << false;
    QTest::newRow("Overloaded") << RpcError::Overloaded << "Overloaded" << false << true << true;
    QTest::newRow("ShuttingDown") << RpcError::ShuttingDown << "ShuttingDown" << false << true << true;
    // The method ran and threw: nothing to say about the instance, and it must not run twice.
    QTest::newRow("ApplicationException") << RpcError::ApplicationException << "ApplicationException"
                                          << false << false << false;
    QTest::newRow("Internal") << RpcError::Internal << "Internal" << false << false << true;
    QTest::newRow("DeadlineExceeded") << RpcError::DeadlineExceeded << "DeadlineExceeded" << false << false << true;
    QTest::newRow("FrameTooLarge") << RpcError::FrameTooLarge << "FrameTooLarge" << false << false << false;
    QTest::newRow("MalformedFrame") << RpcError::MalformedFrame << "MalformedFrame" << false << false << false;
    QTest::newRow("UnsupportedVersion") << RpcError::UnsupportedVersion << "UnsupportedVersion"
                                        << false << false << false;
    QTest::newRow("UnsupportedSerialization") << RpcError::UnsupportedSerialization
                                              << "UnsupportedSerialization" << false << false << false;
    QTest::newRow("UnsupportedCompression") << RpcError::UnsupportedCompression << "UnsupportedCompression"
                                            << false << false << false;
    QTest::newRow("BadRequest") << RpcError::BadRequest << "BadRequest" << false << false << false;
    // Another instance would refuse the same caller the same way.
    QTest::newRow("PermissionDenied") << RpcError::PermissionDenied << "PermissionDenied" << false << false << false;
    // Refused at accept: nothing sent on the connection was read, and the instance is full.
    QTest::newRow("TooManyConnections") << RpcError::TooManyConnections << "TooManyConnections"
                                        << false << true << true;
    // Cut mid-frame or for its memory: calls sent before on that connection may have run.
    QTest::newRow("ResourceExhausted") << RpcError::ResourceExhausted << "ResourceExhausted" << false << false << true;
}

void tst_RpcError::everyCodeIsClassifiedByWhatTheCallerShouldDo()
{
    QFETCH(RpcError::Code, code);
    QFETCH(QString, name);
    QFETCH(bool, clientSide);
    QFETCH(bool, retryable);
    QFETCH(bool, instanceFailure);

    QCOMPARE(RpcError::codeName(code), name);
    QCOMPARE(RpcError::isClientSide(code), clientSide);
    QCOMPARE(RpcError::isRetryable(code), retryable);
    QCOMPARE(RpcError::isInstanceFailure(code), instanceFailure);
    QVERIFY(RpcError::isKnownCode(code));
    // Client-side codes never travel on the wire, so they live in their own number range.
    QCOMPARE(int(code) >= 100 && int(code) < 200, clientSide);
}

void tst_RpcError::onlyDefinedCodesAreKnown_data()
{
    QTest::addColumn<int>("number");
    QTest::addColumn<bool>("known");
    QTest::newRow("0") << 0 << true;
    QTest::newRow("1") << 1 << false;
    QTest::newRow("99") << 99 << false;
    QTest::newRow("100") << 100 << true;
    QTest::newRow("108") << 108 << true;
    QTest::newRow("109") << 109 << false;
    QTest::newRow("199") << 199 << false;
    QTest::newRow("200") << 200 << true;
    QTest::newRow("213") << 213 << true;
    QTest::newRow("214") << 214 << true;
    QTest::newRow("215") << 215 << true;
    QTest::newRow("216") << 216 << true;
    QTest::newRow("217") << 217 << false;
    QTest::newRow("300") << 300 << false;
    QTest::newRow("65535") << 65535 << false;
}

void tst_RpcError::onlyDefinedCodesAreKnown()
{
    QFETCH(int, number);
    QFETCH(bool, known);
    QCOMPARE(RpcError::isKnownCode(quint16(number)), known);
}

void tst_RpcError::anUndefinedCodeStillHasAPrintableName()
{
    // A newer peer may send a code this build does not know; logs must still show it.
    const auto code = RpcError::Code(299);
    QCOMPARE(RpcError::codeName(code), QStringLiteral("Code299"));
    QCOMPARE(RpcError(code, QStringLiteral("x")).toString(), QStringLiteral("Code299: x"));
}

void tst_RpcError::toStringNamesCodeRemoteTypeAndMessage_data()
{
    QTest::addColumn<RpcError::Code>("code");
    QTest::addColumn<QString>("message");
    QTest::addColumn<QString>("remoteType");
    QTest::addColumn<QString>("expected");
    QTest::newRow("code and message") << RpcError::Timeout << "no reply within 2000 ms" << QString()
                                      << "Timeout: no reply within 2000 ms";
    QTest::newRow("code only") << RpcError::NoProvider << QString() << QString() << "NoProvider";
    QTest::newRow("remote type") << RpcError::ApplicationException << "boom" << "std::runtime_error"
                                 << "ApplicationException (std::runtime_error): boom";
    QTest::newRow("remote type without message") << RpcError::ApplicationException << QString()
                                                 << "MyError" << "ApplicationException (MyError)";
    QTest::newRow("non-ASCII message") << RpcError::BadArguments << QStringLiteral("参数错误 ü")
                                       << QString() << QStringLiteral("BadArguments: 参数错误 ü");
}

void tst_RpcError::toStringNamesCodeRemoteTypeAndMessage()
{
    QFETCH(RpcError::Code, code);
    QFETCH(QString, message);
    QFETCH(QString, remoteType);
    QFETCH(QString, expected);

    const RpcError error(code, message, remoteType);
    QCOMPARE(error.toString(), expected);
    QCOMPARE(QString::fromUtf8(error.what()), expected);
    QCOMPARE(error.code(), code);
    QCOMPARE(error.message(), message);
    QCOMPARE(error.remoteType(), remoteType);
}

void tst_RpcError::aDefaultErrorIsOk()
{
    const RpcError error;
    QCOMPARE(error.code(), RpcError::Ok);
    QVERIFY(error.message().isEmpty());
    QVERIFY(error.remoteType().isEmpty());
    QCOMPARE(QByteArray(error.what()), QByteArray("Ok"));
}

void tst_RpcError::copiesAndClonesKeepEverything()
{
    const RpcError original(RpcError::ApplicationException, QStringLiteral("boom"), QStringLiteral("E"));
    const RpcError copy = original;
    QCOMPARE(copy.code(), original.code());
    QCOMPARE(QByteArray(copy.what()), QByteArray(original.what()));

    const std::unique_ptr<RpcError> clone(original.clone());
    QCOMPARE(clone->code(), RpcError::ApplicationException);
    QCOMPARE(clone->message(), QStringLiteral("boom"));
    QCOMPARE(clone->remoteType(), QStringLiteral("E"));
    QCOMPARE(QByteArray(clone->what()), QByteArray("ApplicationException (E): boom"));
}

void tst_RpcError::aFutureCarriesTheErrorToResult_data()
{
    QTest::addColumn<RpcError::Code>("code");
    QTest::addColumn<QString>("message");
    QTest::addColumn<QString>("remoteType");
    QTest::newRow("client side") << RpcError::Timeout << "no reply within 5000 ms" << QString();
    QTest::newRow("server side") << RpcError::UnknownMethod << "EchoService::ech" << QString();
    QTest::newRow("application exception") << RpcError::ApplicationException << "disk full"
                                           << "std::runtime_error";
}

void tst_RpcError::aFutureCarriesTheErrorToResult()
{
    QFETCH(RpcError::Code, code);
    QFETCH(QString, message);
    QFETCH(QString, remoteType);

    QPromise<int> promise;
    QFuture<int> future = promise.future();
    promise.start();
    promise.setException(RpcError(code, message, remoteType));
    promise.finish();

    QVERIFY(future.isFinished());
    try {
        const int value = future.result();
        QFAIL(qPrintable(QStringLiteral("result() returned %1 instead of throwing").arg(value)));
    } catch (const RpcError &e) {
        QCOMPARE(e.code(), code);
        QCOMPARE(e.message(), message);
        QCOMPARE(e.remoteType(), remoteType);
        QCOMPARE(QString::fromUtf8(e.what()), RpcError(code, message, remoteType).toString());
    }
}

void tst_RpcError::aFutureCarriesTheErrorToOnFailed()
{
    QPromise<int> promise;
    QFuture<int> future = promise.future();
    promise.start();
    promise.setException(RpcError(RpcError::Overloaded, QStringLiteral("queue full")));
    promise.finish();

    RpcError seen;
    const int fallback = future.onFailed([&seen](const RpcError &e) {
                                    seen = e;
                                    return -1;
                                })
                             .result();
    QCOMPARE(fallback, -1);
    QCOMPARE(seen.code(), RpcError::Overloaded);
    QCOMPARE(seen.message(), QStringLiteral("queue full"));
}

void tst_RpcError::anExceptionPointerToAnRpcErrorRoundTripsToo()
{
    QPromise<int> promise;
    QFuture<int> future = promise.future();
    promise.start();
    promise.setException(std::make_exception_ptr(
        RpcError(RpcError::ApplicationException, QStringLiteral("bad"), QStringLiteral("Oops"))));
    promise.finish();

    QVERIFY_THROWS_EXCEPTION(RpcError, future.result());
    try {
        future.waitForFinished();
        QFAIL("waitForFinished() did not rethrow");
    } catch (const RpcError &e) {
        QCOMPARE(e.code(), RpcError::ApplicationException);
        QCOMPARE(e.message(), QStringLiteral("bad"));
        QCOMPARE(e.remoteType(), QStringLiteral("Oops"));
    }
}

QTEST_GUILESS_MAIN(tst_RpcError)
#include "tst_rpcerror.moc"
