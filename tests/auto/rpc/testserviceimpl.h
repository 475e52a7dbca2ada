// SPDX-License-Identifier: Apache-2.0
#pragma once
#include "testservice.h"
#include <tomato/core/tsan_p.h>

#include <tomato/server/callcontext.h>

#include <QtCore/QDeadlineTimer>
#include <QtCore/QElapsedTimer>
#include <QtCore/QMutex>
#include <QtCore/QSet>
#include <QtCore/QThread>
#include <QtCore/QWaitCondition>
#include <atomic>
#include <stdexcept>

namespace Test {

struct QuotaExceeded : std::runtime_error
{
    using std::runtime_error::runtime_error;
};

// Gates that service methods wait at until the test opens them. Thread-safe.
class Gates
{
public:
    void open(const QString &name)
    {
        QMutexLocker lock(&m_mutex);
        m_open.insert(name);
        m_changed.wakeAll();
    }
    bool wait(const QString &name, int ms = 10000)
    {
        QDeadlineTimer deadline(ms);
        QMutexLocker lock(&m_mutex);
        while (!m_open.contains(name)) {
            if (!tomatoWait(m_changed, m_mutex, deadline))
                return false;
        }
        return true;
    }

private:
    QMutex m_mutex;
    QWaitCondition m_changed;
    QSet<QString> m_open;
};

class TestServiceImpl : public TestService
{
    Q_OBJECT
public:
    explicit TestServiceImpl(Gates *gates) : m_gates(gates) {}

    QString echo(const QString &text) override { return text; }
    int add(int a, int b) override { return a + b; }
    void touch() override { m_touches.fetch_add(1); }
    int touches() const override { return m_touches.load(); }
    QByteArray bytes(const QByteArray &data) override { return data; }
    QByteArray blob(int size) override { return QByteArray(size, 'b'); }
    Record roundTrip(const Record &record) override { return record; }
    QList<Item> items(int n) override
    {
        QList<Item> out;
        for (int i = 0; i < n; ++i)
            out.append(Item{QStringLiteral("item%1").arg(i), i});
        return out;
    }
    QVariantMap mapEcho(const QVariantMap &map) override { return map; }
    Color next(Color c) override { return c == Color::Red ? Color::Green : Color::Blue; }
    void throwRuntimeError(const QString &message) override
    {
        throw std::runtime_error(message.toStdString());
    }
    int throwCustom(int code) override
    {
        throw QuotaExceeded("quota " + std::to_string(code) + " exceeded");
    }
    int waitAtGate(const QString &gate) override
    {
        const int n = m_gateCalls.fetch_add(1) + 1;
        m_gates->wait(gate);
        return n;
    }
    QString threadName() override { return QThread::currentThread()->objectName(); }
    QString defaulted(const QString &a, int b) override { return a + QString::number(b); }
    QVariantMap callInfo() override
    {
        const Tomato::CallContext *call = Tomato::CallContext::current();
        if (!call)
            return {};
        QVariantMap context;
        const auto entries = call->context();
        for (auto it = entries.cbegin(); it != entries.cend(); ++it)
            context.insert(it.key(), it.value());
        return {{QStringLiteral("service"), call->service()},
                {QStringLiteral("method"), call->method()},
                {QStringLiteral("traceId"), QString::fromUtf8(call->traceId())},
                {QStringLiteral("context"), context},
                {QStringLiteral("user"), call->context(QStringLiteral("user"))},
                {QStringLiteral("peer"), call->peer()},
                {QStringLiteral("subject"), call->peerSubject()},
                {QStringLiteral("commonName"), call->peerCommonName()},
                {QStringLiteral("hasDeadline"), call->hasDeadline()},
                {QStringLiteral("timeLeftMs"), qint64(call->timeLeft().count())},
                {QStringLiteral("cancelled"), call->isCancelled()}};
    }
    int workUntilCancelled(int maxMs) override
    {
        const Tomato::CallContext *call = Tomato::CallContext::current();
        m_workStarted.fetch_add(1);
        QElapsedTimer worked;
        worked.start();
        while (!call->isCancelled() && worked.elapsed() < maxMs)
            QThread::msleep(1);
        m_sawCancel.store(call->isCancelled());
        return int(worked.elapsed());
    }

    int gateCalls() const { return m_gateCalls.load(); }
    int workStarted() const { return m_workStarted.load(); }
    bool sawCancel() const { return m_sawCancel.load(); }

private:
    Gates *m_gates;
    std::atomic<int> m_touches{0};
    std::atomic<int> m_gateCalls{0};
    std::atomic<int> m_workStarted{0};
    std::atomic<bool> m_sawCancel{false};
};

} // namespace Test
