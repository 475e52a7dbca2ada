// SPDX-License-Identifier: Apache-2.0
// Must not compile once its stub is generated: QPoint comes from another header, so
// tomato-stubgen cannot judge it from this text, and the generated stub's static_assert
// refuses it (QPoint is neither a type Tomato marshals nor a Q_GADGET).
// tests/compile/CMakeLists.txt expects the compiler to say so, naming method and type.
#pragma once
#include <QtCore/QObject>
#include <QtCore/QPoint>

class Geometry : public QObject
{
    Q_OBJECT
    Q_CLASSINFO("microServiceId", "geometry")
public:
    Q_INVOKABLE virtual double length(const QPoint &p) = 0;
};
