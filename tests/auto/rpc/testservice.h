// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QtCore/QByteArray>
#include <QtCore/QDateTime>
#include <QtCore/QHash>
#include <QtCore/QList>
#include <QtCore/QMap>
#include <QtCore/QObject>
#include <QtCore/QUuid>
#include <QtCore/QVariantMap>

namespace Test {

struct Item
{
    Q_GADGET
    Q_PROPERTY(QString name MEMBER name)
    Q_PROPERTY(int count MEMBER count)
public:
    QString name;
    int count = 0;
    bool operator==(const Item &o) const { return name == o.name && count == o.count; }
};

// Every supported kind of value in one structure.
struct Record
{
    Q_GADGET
    Q_PROPERTY(bool flag MEMBER flag)
    Q_PROPERTY(qint64 big MEMBER big)
    Q_PROPERTY(quint8 small MEMBER small)
    Q_PROPERTY(double ratio MEMBER ratio)
    Q_PROPERTY(QString text MEMBER text)
    Q_PROPERTY(QByteArray blob MEMBER blob)
    Q_PROPERTY(QDateTime when MEMBER when)
    Q_PROPERTY(QUuid id MEMBER id)
    Q_PROPERTY(QStringList tags MEMBER tags)
    Q_PROPERTY(QList<Item> items MEMBER items)
    Q_PROPERTY(QMap<QString, Test::Item> byName MEMBER byName)
    Q_PROPERTY(QHash<QString, int> counts MEMBER counts)
    Q_PROPERTY(QVariantMap extra MEMBER extra)
public:
    bool flag = false;
    qint64 big = 0;
    quint8 small = 0;
    double ratio = 0;
    QString text;
    QByteArray blob;
    QDateTime when;
    QUuid id;
    QStringList tags;
    QList<Item> items;
    QMap<QString, Item> byName;
    QHash<QString, int> counts;
    QVariantMap extra;
    bool operator==(const Record &o) const
    {
        return flag == o.flag && big == o.big && small == o.small && ratio == o.ratio
            && text == o.text && blob == o.blob && when == o.when && id == o.id && tags == o.tags
            && items == o.items && byName == o.byName && counts == o.counts && extra == o.extra;
    }
};

// The interface the end-to-end tests call.
class TestService : public QObject
{
    Q_OBJECT
    Q_CLASSINFO("microServiceId", "test-service")
public:
    enum class Color { Red, Green, Blue };
    Q_ENUM(Color)

    using QObject::QObject;
    Q_INVOKABLE virtual QString echo(const QString &text) = 0;
    Q_INVOKABLE virtual int add(int a, int b) = 0;
    Q_INVOKABLE virtual void touch() = 0;                       // void: counts calls
    Q_INVOKABLE virtual int touches() const = 0;                // const method
    Q_INVOKABLE virtual QByteArray bytes(const QByteArray &data) = 0;
    Q_INVOKABLE virtual QByteArray blob(int size) = 0;         // a small call, a big answer
    Q_INVOKABLE virtual Test::Record roundTrip(const Test::Record &record) = 0;
    Q_INVOKABLE virtual QList<Item> items(int n) = 0; // unqualified types work too
    Q_INVOKABLE virtual QVariantMap mapEcho(const QVariantMap &map) = 0;
    Q_INVOKABLE virtual Color next(Color c) = 0;
    Q_INVOKABLE virtual void throwRuntimeError(const QString &message) = 0;
    Q_INVOKABLE virtual int throwCustom(int code) = 0;          // throws Test::QuotaExceeded
    // Blocks until the test opens the gate named `gate` (or 10 s pass); returns how many
    // calls of this method have started so far.
    Q_INVOKABLE virtual int waitAtGate(const QString &gate) = 0;
    Q_INVOKABLE virtual QString threadName() = 0;
    Q_INVOKABLE virtual QString defaulted(const QString &a, int b = 7) = 0;
    // What Tomato::CallContext::current() tells the method.
    Q_INVOKABLE virtual QVariantMap callInfo() = 0;
    // Works (in 1 ms steps) until CallContext::isCancelled() or maxMs pass; returns the ms worked.
    Q_INVOKABLE virtual int workUntilCancelled(int maxMs) = 0;
};

// Published nowhere: calls get UnknownService.
class UnpublishedService : public QObject
{
    Q_OBJECT
    Q_CLASSINFO("microServiceId", "test-service")
public:
    using QObject::QObject;
    Q_INVOKABLE virtual int anything() = 0;
};

} // namespace Test
