// SPDX-License-Identifier: Apache-2.0
#pragma once
#include "signalservice.h"

namespace Test {

// Emits what it is asked to, from the thread that calls it; `name` tells instances apart.
class SignalServiceImpl : public SignalService
{
public:
    explicit SignalServiceImpl(QString name) : m_name(std::move(name)) {}
    int fire(int count, const QString &text) override
    {
        for (int i = 1; i <= count; ++i)
            Q_EMIT ticked(i, text, Tick{i, m_name});
        return count;
    }
    void announce(const QStringList &items) override { Q_EMIT listChanged(items); }
    QString name() override { return m_name; }

private:
    QString m_name;
};

} // namespace Test
