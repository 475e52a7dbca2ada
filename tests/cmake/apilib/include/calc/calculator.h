// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <calc/calcapi_export.h>

#include <QtCore/QObject>

namespace Calc {

// The interface of an API library: installed with its stub, used by servers and clients.
class CALCAPI_EXPORT Calculator : public QObject
{
    Q_OBJECT
    Q_CLASSINFO("microServiceId", "calculator")
public:
    using QObject::QObject;
    Q_INVOKABLE virtual int add(int a, int b) = 0;
};

} // namespace Calc
