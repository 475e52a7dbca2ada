// SPDX-License-Identifier: Apache-2.0
#include "sampleservices.h"

#include <QtConcurrent/QtConcurrentRun>
#include <QtCore/QPromise>
#include <QtCore/QStringList>
#include <algorithm>
#include <limits>
#include <numeric>
#include <stdexcept>

QString ServerIdentity::toString() const
{
    return QStringLiteral("%1:%2 %3 stage=%4 group=%5").arg(host).arg(port).arg(microServiceId, stage, group);
}

QString EchoServiceImpl::echo(const QString &message)
{
    return QStringLiteral("[%1] %2").arg(m_identity->toString(), message);
}

QString DemoServiceImpl::describe(const Sample::DemoRequest &request)
{
    QStringList keys;
    for (const QVariantMap &m : request.attributes)
        keys += m.keys();
    return QStringLiteral("[%1] text='%2' sum=%3 attributes=%4")
        .arg(m_identity->toString(), request.text)
        .arg(sum(request.numbers))
        .arg(keys.join(QLatin1Char(',')));
}

Sample::DemoRequest DemoServiceImpl::normalize(const Sample::DemoRequest &request)
{
    Sample::DemoRequest reply = request;
    std::sort(reply.numbers.begin(), reply.numbers.end());
    reply.attributes.append(QVariantMap{{QStringLiteral("server"), m_identity->toString()}});
    return reply;
}

int DemoServiceImpl::sum(const QList<int> &values)
{
    return std::accumulate(values.begin(), values.end(), 0);
}

int DemoServiceImpl::divide(int dividend, int divisor)
{
    if (divisor == 0)
        throw std::domain_error("division by zero");
    if (dividend == std::numeric_limits<int>::min() && divisor == -1)
        throw std::overflow_error("the quotient does not fit in an int");
    return dividend / divisor;
}

void DemoServiceImpl::notify(const QString &event)
{
    Q_UNUSED(event);
    m_notifications.fetch_add(1);
}

int DemoServiceImpl::notifications() const
{
    return m_notifications.load();
}

QFuture<QString> DemoServiceImpl::shout(const QString &text)
{
    // Continued on the thread that finishes the call (Sync): upper-casing needs no other.
    return echo()->echoAsync(text).then(QtFuture::Launch::Sync, [](const QString &echoed) { return echoed.toUpper(); });
}

QFuture<int> DemoServiceImpl::countPrimes(int limit)
{
    if (limit < 0 || limit > 100'000'000)
        throw std::invalid_argument("limit must be between 0 and 100,000,000");
    // With a QPromise: the sieve looks at it between rounds, so a caller's cancel (or its
    // deadline) stops the work on the pool, not only the answer.
    return QtConcurrent::run([limit](QPromise<int> &promise) {
        std::vector<bool> composite(size_t(limit) + 1, false);
        int count = 0;
        quint64 steps = 0; // a look at the promise every 2^20 steps: a few milliseconds apart
        for (qint64 i = 2; i < limit; ++i) {
            if ((++steps & 0xfffff) == 0 && promise.isCanceled())
                return;
            if (composite[size_t(i)])
                continue;
            ++count;
            for (qint64 j = i * i; j < limit; j += i) {
                composite[size_t(j)] = true;
                if ((++steps & 0xfffff) == 0 && promise.isCanceled())
                    return;
            }
        }
        promise.addResult(count);
    });
}

QFuture<QStringList> DemoServiceImpl::echoAll(const QStringList &texts)
{
    QList<QFuture<QString>> calls;
    for (const QString &text : texts)
        calls.append(echo()->echoAsync(text));
    return QtFuture::whenAll(calls.begin(), calls.end()).then(QtFuture::Launch::Sync, [](const QList<QFuture<QString>> &done) {
        QStringList answers;
        for (const QFuture<QString> &call : done)
            answers.append(Tomato::waitFor(call)); // one failed call fails the whole
        return answers;
    });
}

Sample::EchoServiceStub *DemoServiceImpl::echo() const
{
    Sample::EchoServiceStub *stub = m_echo.load();
    if (!stub)
        throw std::runtime_error("EchoService is not reachable yet"); // the server is still starting
    return stub;
}
