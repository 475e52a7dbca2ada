// SPDX-License-Identifier: Apache-2.0
#pragma once
#include "demoservice.h"
#include "echoservice.h"
#include "echoservice_stub.h"

#include <tomato/server/rpcserver.h>
#include <atomic>

// Implementations of the sample interfaces. Replies name the server that answered (host,
// port, service id, stage, group) so a caller can see where its call went. Methods run on
// the business pool: they are thread-safe.
struct ServerIdentity
{
    QString host;
    quint16 port = 0;
    QString microServiceId;
    QString stage;
    QString group;
    QString toString() const;
};

class EchoServiceImpl : public Sample::EchoService
{
    Q_OBJECT
public:
    explicit EchoServiceImpl(const ServerIdentity *identity) : m_identity(identity) {}
    QString echo(const QString &message) override;

private:
    const ServerIdentity *m_identity;
};

class DemoServiceImpl : public Sample::DemoService
{
    Q_OBJECT
public:
    explicit DemoServiceImpl(const ServerIdentity *identity) : m_identity(identity) {}
    QString describe(const Sample::DemoRequest &request) override;
    Sample::DemoRequest normalize(const Sample::DemoRequest &request) override;
    int sum(const QList<int> &values) override;
    int divide(int dividend, int divisor) override;
    void notify(const QString &event) override;
    int notifications() const override;
    QFuture<QString> shout(const QString &text) override;
    QFuture<int> countPrimes(int limit) override;
    QFuture<QStringList> echoAll(const QStringList &texts) override;

    // Where shout() and echoAll() call EchoService (this server's own, once it listens).
    void setEcho(Sample::EchoServiceStub *echo) { m_echo.store(echo); }

private:
    Sample::EchoServiceStub *echo() const;
    const ServerIdentity *m_identity;
    std::atomic<Sample::EchoServiceStub *> m_echo{nullptr};
    std::atomic<int> m_notifications{0};
};
