// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QtCore/QObject>

class Greeter : public QObject
{
    Q_OBJECT
    Q_CLASSINFO("microServiceId", "consumer")
public:
    using QObject::QObject;
    Q_INVOKABLE virtual QString greet(const QString &name) = 0;
};
