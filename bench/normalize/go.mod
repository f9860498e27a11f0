module github.com/querytrace/querytrace/bench/normalize

go 1.25.0

require github.com/querytrace/querytrace v0.0.0

require github.com/DataDog/go-sqllexer v0.2.6

replace github.com/querytrace/querytrace => ../..
