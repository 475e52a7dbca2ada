// SPDX-License-Identifier: Apache-2.0
#pragma once
// An interface with a type that cannot travel. It is deliberately not given to
// tomato_add_stubs(): its stub would not compile (the stub checks every type), so the
// runtime refusals at publish() and at stub creation are tested without one.
#include <QtCore/QObject>
#include <QtCore/QPoint>
#include <QtCore/QString>

namespace Test {

// Uses a type that cannot travel: refused when published and when a stub core is created.
class BadService : public QObject
{
    Q_OBJECT
    Q_CLASSINFO("microServiceId", "test-service")
public:
    using QObject::QObject;
    Q_INVOKABLE virtual QString fine(const QString &s) = 0;
    Q_INVOKABLE virtual int position(const QPoint &p) = 0;
};

class BadServiceImpl : public BadService
{
    Q_OBJECT
public:
    QString fine(const QString &s) override { return s; }
    int position(const QPoint &p) override { return p.x(); }
};

// Forgot Q_INVOKABLE: moc sees no method at all. Refused at publish() and at stub creation.
class NoInvokableService : public QObject
{
    Q_OBJECT
    Q_CLASSINFO("microServiceId", "test-service")
public:
    using QObject::QObject;
    virtual QString fine(const QString &s) = 0;
};

class NoInvokableServiceImpl : public NoInvokableService
{
    Q_OBJECT
public:
    QString fine(const QString &s) override { return s; }
};

} // namespace Test
