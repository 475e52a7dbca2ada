// SPDX-License-Identifier: Apache-2.0
#pragma once
// For tests that run every test function over every transport (tcp, tls and unix): the rows
// of initTestCase_data, the certificates and socket directory made once, and configurations
// for a server and a client of the current row's transport. Test thread only.
#include "testcertificates.h"

#include <tomato/core/rpcconfig.h>

#include <QtCore/QTemporaryDir>
#include <QtTest/QTest>

namespace EveryTransport {

inline TestCertificates *certificates = nullptr; // made by setUp()
inline QTemporaryDir *socketDir = nullptr;       // where the Unix sockets of the tests live
inline int socketCount = 0;

// In initTestCase_data().
inline void addRows()
{
    QTest::addColumn<QString>("transport");
    QTest::newRow("tcp") << QStringLiteral("tcp");
    QTest::newRow("tls") << QStringLiteral("tls");
    QTest::newRow("unix") << QStringLiteral("unix");
}

// In initTestCase() (it runs once per row; the first makes everything) and cleanupTestCase().
inline void setUp()
{
    if (certificates)
        return;
    certificates = new TestCertificates;
    QVERIFY2(certificates->make(), qPrintable(certificates->error()));
    socketDir = new QTemporaryDir;
    QVERIFY(socketDir->isValid());
}

inline void tearDown()
{
    delete certificates;
    certificates = nullptr;
    delete socketDir;
    socketDir = nullptr;
}

// The transport of the current test (the row of initTestCase_data).
inline QString transport()
{
    QFETCH_GLOBAL(QString, transport);
    return transport;
}

// A fresh address of the current transport for a server to listen on.
inline QString listenAddress()
{
    if (transport() == QLatin1String("unix"))
        return QStringLiteral("unix://") + socketDir->filePath(QStringLiteral("s%1.sock").arg(++socketCount));
    return transport() + QLatin1String("://127.0.0.1:0");
}

// A server of test-service on a fresh address of the current transport.
inline Tomato::RpcConfig serverConfig()
{
    Tomato::RpcConfig c;
    c.setListen({listenAddress()});
    c.setMicroServiceId(QStringLiteral("test-service"));
    if (transport() == QLatin1String("tls")) {
        c.setTlsCert(certificates->cert(QStringLiteral("server")));
        c.setTlsKey(certificates->key(QStringLiteral("server")));
    }
    return c;
}

// A client that trusts the test servers' certificates.
inline Tomato::RpcConfig clientConfig()
{
    Tomato::RpcConfig c;
    if (transport() == QLatin1String("tls"))
        c.setTlsCa(certificates->ca());
    return c;
}

} // namespace EveryTransport
