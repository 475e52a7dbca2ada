// SPDX-License-Identifier: Apache-2.0
#include "sampleservices.h"

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
